//! API tokens: a secret wrapper that never prints, and the on-disk token cache.
//!
//! The cache is compatible with the official Python tool: the token for the
//! default server (`https://www.brainstem.org/`) lives in
//! `~/.config/brainstem/token` as plain text, so one login serves both tools.
//! Tokens for other servers live in `~/.config/brainstem/tokens/<server>`, one
//! file per server URL. Files are written atomically (temporary file + rename)
//! with mode 0600; a cache file that other users can read is refused.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::Error;

/// A personal access token. It never appears in `Debug` output, error
/// messages or logs.
///
/// ```
/// let t = brainstem::client::Token::new("s3cret");
/// assert_eq!(format!("{t:?}"), "Token(<redacted>)");
/// assert_eq!(t.expose(), "s3cret");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wrap a token string (surrounding whitespace is trimmed).
    pub fn new(token: impl Into<String>) -> Self {
        let s: String = token.into();
        Token(s.trim().to_string())
    }

    /// The token itself, for code that must send or store it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// Where a client's token came from (first found wins, in this order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// Given to the builder.
    Explicit,
    /// From an environment variable (its name).
    Env(&'static str),
    /// From the token cache file at this path.
    Cache(PathBuf),
    /// From a device-authorization login in this process.
    Login,
    /// No token: only the public portal can be used.
    None,
}

/// The default server; its token lives in the Python tool's file.
pub const DEFAULT_BASE_URL: &str = "https://www.brainstem.org/";

/// The token cache: a directory holding one token per server.
///
/// ```
/// use brainstem::client::TokenCache;
/// let cache = TokenCache::in_dir("/home/me/.config/brainstem");
/// assert_eq!(
///     cache.path_for("https://www.brainstem.org/"),
///     std::path::Path::new("/home/me/.config/brainstem/token")
/// );
/// assert_eq!(
///     cache.path_for("http://127.0.0.1:8000/"),
///     std::path::Path::new("/home/me/.config/brainstem/tokens/http_127.0.0.1_8000")
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenCache {
    dir: PathBuf,
}

impl TokenCache {
    /// The cache in a given directory.
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        TokenCache { dir: dir.into() }
    }

    /// The Python tool's location: `$HOME/.config/brainstem`. `None` when the
    /// home directory is unknown.
    pub fn default_location() -> Option<Self> {
        Self::from_home(std::env::var_os("HOME").map(PathBuf::from))
    }

    pub(crate) fn from_home(home: Option<PathBuf>) -> Option<Self> {
        let home = home.filter(|h| !h.as_os_str().is_empty())?;
        Some(Self::in_dir(home.join(".config").join("brainstem")))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file that holds the token for a server (a normalized base URL).
    pub fn path_for(&self, base_url: &str) -> PathBuf {
        let base = normalize_base(base_url);
        if base == DEFAULT_BASE_URL {
            return self.dir.join("token");
        }
        let mut name = String::new();
        let rest = base.trim_end_matches('/');
        for ch in rest.chars() {
            if ch.is_ascii_alphanumeric() || ch == '.' || ch == '-' {
                name.push(ch);
            } else if !name.ends_with('_') {
                name.push('_');
            }
        }
        self.dir.join("tokens").join(name.trim_matches('_'))
    }

    /// Read the cached token for a server. `Ok(None)` when there is none;
    /// an error when the file cannot be read or other users can read it.
    pub fn load(&self, base_url: &str) -> Result<Option<(Token, PathBuf)>, Error> {
        let path = self.path_for(base_url);
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(cache_error(&path, format!("cannot read it: {e}"))),
        };
        check_private(&path, &meta)?;
        let text = std::fs::read_to_string(&path)
            .map_err(|e| cache_error(&path, format!("cannot read it: {e}")))?;
        let token = Token::new(text);
        if token.is_empty() {
            return Ok(None);
        }
        Ok(Some((token, path)))
    }

    /// Store a token for a server: written to a new temporary file in the
    /// same folder (created exclusively, with an unpredictable name, mode
    /// 0600 before the token is written), then renamed over the old file, so
    /// a symlink planted in the folder is never followed and the cache file
    /// is a regular file afterwards. The cache folders are made private
    /// (0700); one owned by another user is refused.
    pub fn store(&self, base_url: &str, token: &Token) -> Result<PathBuf, Error> {
        let path = self.path_for(base_url);
        let dir = path.parent().unwrap_or(&self.dir).to_path_buf();
        private_dir(&self.dir)?;
        if dir != self.dir {
            private_dir(&dir)?;
        }
        let write = || -> std::io::Result<()> {
            let mut tmp = tempfile::Builder::new()
                .prefix(".token-")
                .suffix(".tmp")
                .tempfile_in(&dir)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                tmp.as_file()
                    .set_permissions(std::fs::Permissions::from_mode(0o600))?;
            }
            tmp.write_all(token.expose().as_bytes())?;
            tmp.as_file().sync_all()?;
            tmp.persist(&path).map_err(|e| e.error)?;
            Ok(())
        };
        // a temporary file that was not persisted is removed when dropped
        write().map_err(|e| cache_error(&path, format!("cannot write it: {e}")))?;
        Ok(path)
    }

    /// Remove the cached token for a server. Returns whether a file was removed.
    pub fn remove(&self, base_url: &str) -> Result<bool, Error> {
        let path = self.path_for(base_url);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(cache_error(&path, format!("cannot remove it: {e}"))),
        }
    }
}

fn cache_error(path: &Path, problem: String) -> Error {
    Error::TokenCache {
        path: path.to_path_buf(),
        problem,
    }
}

#[cfg(unix)]
fn check_private(path: &Path, meta: &std::fs::Metadata) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(cache_error(
            path,
            format!(
                "it has mode {mode:03o}, so other users can read your token; refusing to use it. Fix it with `chmod 600 {}` (and consider replacing the token, as it may have been read)",
                path.display()
            ),
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _meta: &std::fs::Metadata) -> Result<(), Error> {
    Ok(())
}

/// Make sure a cache folder exists and is ours alone: a new one is created
/// with mode 0700, an existing one is tightened to 0700, and one owned by
/// another user is refused (they could swap the token file under us).
fn private_dir(dir: &Path) -> Result<(), Error> {
    create_private_dir(dir)
        .map_err(|e| cache_error(dir, format!("cannot create the cache folder: {e}")))?;
    let meta = std::fs::metadata(dir)
        .map_err(|e| cache_error(dir, format!("cannot read the cache folder: {e}")))?;
    if !meta.is_dir() {
        return Err(cache_error(dir, "it is not a folder".into()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(cache_error(
                dir,
                format!(
                    "the cache folder belongs to user {}, not to you (user {me}), so they could replace your token; refusing to use it. Use a cache folder of your own",
                    meta.uid()
                ),
            ));
        }
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(|e| {
                cache_error(dir, format!("cannot make the cache folder private: {e}"))
            })?;
        }
    }
    Ok(())
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// A base URL with exactly one trailing slash.
pub(crate) fn normalize_base(url: &str) -> String {
    let t = url.trim();
    let mut s = t.trim_end_matches('/').to_string();
    s.push('/');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_per_server() {
        let c = TokenCache::in_dir("/x");
        assert_eq!(
            c.path_for("https://www.brainstem.org"),
            Path::new("/x/token")
        );
        assert_eq!(
            c.path_for("https://staging.example.org/api-root/"),
            Path::new("/x/tokens/https_staging.example.org_api-root")
        );
    }
}
