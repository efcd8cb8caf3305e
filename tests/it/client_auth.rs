//! Configuration, token precedence, the token cache and the device login.

use crate::client_support;

use std::collections::HashMap;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use brainstem::client::{Client, Error, LoginError, LoginOptions, Token, TokenCache, TokenSource};
use client_support::*;
use serde_json::json;

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn token_precedence_explicit_env_cache_none() {
    let home = tempfile::tempdir().unwrap();
    let home_s = home.path().to_str().unwrap().to_string();
    let cache = TokenCache::in_dir(Path::new(&home_s).join(".config/brainstem"));
    cache
        .store("https://www.brainstem.org/", &Token::new("from-cache"))
        .unwrap();

    // Explicit wins over everything.
    let c = Client::builder()
        .token("explicit")
        .env_with(env(&[
            ("HOME", &home_s),
            ("BRAINSTEM_API_TOKEN", "a"),
            ("BRAINSTEM_TOKEN", "b"),
        ]))
        .build()
        .unwrap();
    assert_eq!(c.token_source(), TokenSource::Explicit);

    // BRAINSTEM_API_TOKEN, then BRAINSTEM_TOKEN.
    let c = Client::builder()
        .env_with(env(&[
            ("HOME", &home_s),
            ("BRAINSTEM_API_TOKEN", "a"),
            ("BRAINSTEM_TOKEN", "b"),
        ]))
        .build()
        .unwrap();
    assert_eq!(c.token_source(), TokenSource::Env("BRAINSTEM_API_TOKEN"));
    let c = Client::builder()
        .env_with(env(&[("HOME", &home_s), ("BRAINSTEM_TOKEN", "b")]))
        .build()
        .unwrap();
    assert_eq!(c.token_source(), TokenSource::Env("BRAINSTEM_TOKEN"));
    // Empty variables do not count.
    let c = Client::builder()
        .env_with(env(&[
            ("HOME", &home_s),
            ("BRAINSTEM_API_TOKEN", " "),
            ("BRAINSTEM_TOKEN", ""),
        ]))
        .build()
        .unwrap();
    assert!(
        matches!(c.token_source(), TokenSource::Cache(p) if p == home.path().join(".config/brainstem/token"))
    );

    // No cache entry for another server: no token.
    let c = Client::builder()
        .env_with(env(&[
            ("HOME", &home_s),
            ("BRAINSTEM_URL", "http://127.0.0.1:9/"),
        ]))
        .build()
        .unwrap();
    assert_eq!(c.token_source(), TokenSource::None);
    assert_eq!(c.base_url(), "http://127.0.0.1:9/");
    assert!(!c.has_token());

    // The default base URL.
    let c = Client::builder()
        .env_with(env(&[("HOME", &home_s)]))
        .build()
        .unwrap();
    assert_eq!(c.base_url(), "https://www.brainstem.org/");
}

#[test]
fn the_cache_file_is_the_python_tools_and_private() {
    let home = tempfile::tempdir().unwrap();
    let cache = TokenCache::in_dir(home.path().join(".config/brainstem"));
    let p = cache
        .store("https://www.brainstem.org", &Token::new("tok-1"))
        .unwrap();
    assert_eq!(p, home.path().join(".config/brainstem/token"));
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        "tok-1",
        "plain text, as the Python tool writes it"
    );
    assert_eq!(mode(&p), 0o600);
    assert_eq!(mode(p.parent().unwrap()), 0o700);

    // Another server gets its own file.
    let q = cache
        .store("http://127.0.0.1:8000", &Token::new("tok-2"))
        .unwrap();
    assert_ne!(p, q);
    assert_eq!(mode(&q), 0o600);
    assert_eq!(
        cache
            .load("http://127.0.0.1:8000/")
            .unwrap()
            .unwrap()
            .0
            .expose(),
        "tok-2"
    );
    assert_eq!(
        cache
            .load("https://www.brainstem.org/")
            .unwrap()
            .unwrap()
            .0
            .expose(),
        "tok-1"
    );

    // Overwrite is atomic (rename) and keeps the mode; no temp file left behind.
    cache
        .store("https://www.brainstem.org/", &Token::new("tok-3"))
        .unwrap();
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "tok-3");
    assert_eq!(mode(&p), 0o600);
    let leftovers: Vec<_> = std::fs::read_dir(p.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty());

    // A token the Python tool wrote (with a trailing newline) reads back trimmed.
    std::fs::write(&p, "py-token\n").unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(
        cache
            .load("https://www.brainstem.org/")
            .unwrap()
            .unwrap()
            .0
            .expose(),
        "py-token"
    );

    assert!(cache.remove("https://www.brainstem.org/").unwrap());
    assert!(!cache.remove("https://www.brainstem.org/").unwrap());
    assert!(cache.load("https://www.brainstem.org/").unwrap().is_none());
}

#[test]
fn a_world_readable_cache_is_refused_with_the_fix() {
    let home = tempfile::tempdir().unwrap();
    let home_s = home.path().to_str().unwrap().to_string();
    let cache = TokenCache::in_dir(Path::new(&home_s).join(".config/brainstem"));
    let p = cache
        .store("https://www.brainstem.org/", &Token::new("secret-token"))
        .unwrap();
    for bad in [0o644, 0o604, 0o640] {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(bad)).unwrap();
        let err = Client::builder()
            .env_with(env(&[("HOME", &home_s)]))
            .build()
            .unwrap_err();
        match &err {
            Error::TokenCache { path, problem } => {
                assert_eq!(path, &p);
                assert!(problem.contains("chmod 600"), "{problem}");
            }
            other => panic!("{other:?}"),
        }
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("secret-token"), "{shown}");
    }
    // An explicit or environment token does not read the cache at all.
    let c = Client::builder()
        .env_with(env(&[("HOME", &home_s), ("BRAINSTEM_TOKEN", "t")]))
        .build()
        .unwrap();
    assert_eq!(c.token_source(), TokenSource::Env("BRAINSTEM_TOKEN"));
}

#[test]
fn plain_http_is_refused_for_tokens_except_loopback() {
    for url in [
        "http://example.org/",
        "http://10.1.2.3:8000/",
        "http://brainstem.org",
    ] {
        let err = Client::builder()
            .base_url(url)
            .token("t0ken")
            .no_token_cache()
            .build()
            .unwrap_err();
        assert!(matches!(&err, Error::InsecureUrl { .. }), "{url}: {err:?}");
        assert!(err.to_string().contains("allow_insecure_http"), "{err}");
        assert!(!format!("{err:?}").contains("t0ken"));
        // Explicitly allowed.
        Client::builder()
            .base_url(url)
            .token("t0ken")
            .no_token_cache()
            .allow_insecure_http(true)
            .build()
            .unwrap();
        Client::builder()
            .env_with(env(&[
                ("BRAINSTEM_URL", url),
                ("BRAINSTEM_TOKEN", "t0ken"),
                ("BRAINSTEM_ALLOW_INSECURE_HTTP", "1"),
            ]))
            .no_token_cache()
            .build()
            .unwrap();
        // Without a token there is nothing to protect.
        Client::builder()
            .base_url(url)
            .no_token_cache()
            .build()
            .unwrap();
    }
    for url in [
        "http://127.0.0.1:8000/",
        "http://localhost:1/",
        "http://[::1]:8000/",
        "http://127.5.6.7/",
    ] {
        Client::builder()
            .base_url(url)
            .token("t")
            .no_token_cache()
            .build()
            .unwrap();
    }
    // Not URLs at all.
    for url in ["ftp://example.org/", "not a url"] {
        let err = Client::builder()
            .base_url(url)
            .no_token_cache()
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{url}: {err:?}");
    }
}

#[test]
fn https_builds_with_the_ring_provider() {
    let c = Client::builder()
        .base_url("https://www.brainstem.org")
        .token("t")
        .no_token_cache()
        .build()
        .unwrap();
    assert_eq!(c.base_url(), "https://www.brainstem.org/");
}

#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Sink {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

async fn login_server(polls_pending: usize, outcome: serde_json::Value) -> TestServer {
    login_server_with(
        "http://127.0.0.1/account/authorize/?session=abc",
        polls_pending,
        outcome,
    )
    .await
}

/// A login server whose sign-in page (`verification_uri_complete`) is `page`.
async fn login_server_with(
    page: &'static str,
    polls_pending: usize,
    outcome: serde_json::Value,
) -> TestServer {
    TestServer::start(move |hit, n| match hit.path.as_str() {
        "/api/auth/device/" => {
            assert_eq!(hit.json()["client_name"], "brainstem-rs");
            assert_eq!(hit.header("authorization"), None);
            Reply::json(
                200,
                json!({
                    "device_code": "dev-123",
                    "user_code": "WXYZ-1234",
                    "verification_uri": "http://127.0.0.1/account/authorize/",
                    "verification_uri_complete": page,
                    "interval": 1,
                    "expires_in": 900
                }),
            )
        }
        "/api/auth/device/token/" => {
            assert_eq!(hit.json(), json!({"device_code": "dev-123"}));
            // Request 0 started the flow; polls are 1, 2, ...
            if n <= polls_pending {
                Reply::json(200, json!({"status": "authorization_pending"}))
            } else {
                Reply::json(200, outcome.clone())
            }
        }
        _ => Reply::json(404, json!({"detail": "Not found."})),
    })
    .await
}

fn login_client(url: &str, cache_dir: &Path) -> Client {
    Client::builder()
        .base_url(url)
        .token_cache(TokenCache::in_dir(cache_dir))
        .build()
        .unwrap()
}

fn fast(sink: &Sink) -> LoginOptions {
    LoginOptions::new()
        .headless(true)
        .poll_interval(Duration::from_millis(20))
        .output(sink.clone())
}

#[tokio::test]
async fn device_login_approved_caches_and_uses_the_token() {
    let srv = login_server(
        2,
        json!({"status": "success", "token": "new-personal-token"}),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let client = login_client(&srv.url, dir.path());
    assert!(!client.has_token());
    let sink = Sink::default();
    let cached = client.login(fast(&sink)).await.unwrap().unwrap();
    assert_eq!(client.token_source(), TokenSource::Login);
    assert_eq!(
        std::fs::read_to_string(&cached).unwrap(),
        "new-personal-token"
    );
    assert_eq!(mode(&cached), 0o600);
    assert_eq!(srv.count(), 4, "start + 2 pending + success");
    // Headless output: the URL and the code, never the token.
    let out = sink.text();
    assert!(
        out.contains("http://127.0.0.1/account/authorize/ "),
        "{out}"
    );
    assert!(out.contains("WXYZ-1234"), "{out}");
    assert!(!out.contains("new-personal-token"), "{out}");
    assert!(!format!("{client:?}").contains("new-personal-token"));

    // A new client for the same server finds the cached token.
    let again = login_client(&srv.url, dir.path());
    assert!(matches!(again.token_source(), TokenSource::Cache(p) if p == cached));

    // Logout removes it.
    assert!(client.logout().unwrap());
    assert!(!cached.exists());
    assert!(!client.has_token());
    assert!(!client.logout().unwrap());
    let after = login_client(&srv.url, dir.path());
    assert_eq!(after.token_source(), TokenSource::None);
}

#[tokio::test]
async fn device_login_refusals_are_typed() {
    for (error, want) in [
        ("access_denied", LoginError::AccessDenied),
        ("expired_token", LoginError::Expired),
        ("already_used", LoginError::AlreadyUsed),
    ] {
        let srv = login_server(1, json!({"error": error})).await;
        let dir = tempfile::tempdir().unwrap();
        let client = login_client(&srv.url, dir.path());
        let sink = Sink::default();
        let err = client.login(fast(&sink)).await.unwrap_err();
        match &err {
            Error::Login(e) => assert_eq!(e, &want),
            other => panic!("{error}: {other:?}"),
        }
        assert!(err.to_string().contains(error), "{err}");
        assert!(!client.has_token());
        assert!(
            std::fs::read_dir(dir.path())
                .map(|d| d.count())
                .unwrap_or(0)
                == 0,
            "nothing cached"
        );
    }
}

#[tokio::test]
async fn device_login_gives_up_at_the_deadline() {
    let srv = login_server(usize::MAX, json!({})).await;
    let dir = tempfile::tempdir().unwrap();
    let client = login_client(&srv.url, dir.path());
    let sink = Sink::default();
    let err = client
        .login(fast(&sink).deadline(Duration::from_millis(150)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Login(LoginError::TimedOut(d)) if d == Duration::from_millis(150)),
        "{err:?}"
    );
}

#[tokio::test]
async fn device_login_polls_at_the_servers_interval() {
    let srv = login_server(1, json!({"status": "success", "token": "t"})).await;
    let dir = tempfile::tempdir().unwrap();
    let client = login_client(&srv.url, dir.path());
    let sink = Sink::default();
    let prompts = Arc::new(Mutex::new(Vec::new()));
    let p2 = prompts.clone();
    let started = std::time::Instant::now();
    client
        .login(
            LoginOptions::new()
                .headless(true)
                .output(sink.clone())
                .on_prompt(move |p| {
                    p2.lock().unwrap().push(p.clone());
                }),
        )
        .await
        .unwrap();
    // interval 1 s, two polls.
    assert!(
        started.elapsed() >= Duration::from_millis(1900),
        "{:?}",
        started.elapsed()
    );
    let prompts = prompts.lock().unwrap();
    assert_eq!(prompts.len(), 1);
    assert_eq!(prompts[0].user_code.as_deref(), Some("WXYZ-1234"));
    assert_eq!(prompts[0].expires_in, Some(Duration::from_secs(900)));
}

#[tokio::test]
async fn device_login_refuses_plain_http_to_remote_hosts() {
    let client = Client::builder()
        .base_url("http://example.org/")
        .no_token_cache()
        .build()
        .unwrap();
    let err = client
        .login(LoginOptions::new().headless(true))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InsecureUrl { .. }), "{err:?}");
}

#[tokio::test]
async fn the_browser_opens_only_pages_of_the_server_or_this_machine() {
    for (page, opens) in [
        ("http://127.0.0.1/account/authorize/?session=abc", true),
        ("http://localhost:9/authorize/", true),
        ("file:///etc/passwd", false),
        ("https://evil.example.com/account/authorize/", false),
        ("http://evil.example.com/account/authorize/", false),
        ("javascript:alert(1)", false),
    ] {
        let srv = login_server_with(page, 0, json!({"status": "success", "token": "tok"})).await;
        let dir = tempfile::tempdir().unwrap();
        let client = login_client(&srv.url, dir.path());
        let sink = Sink::default();
        let opened = Arc::new(Mutex::new(Vec::<String>::new()));
        let seen = opened.clone();
        // not headless: the page goes to the browser hook (never a real browser here)
        let opts = LoginOptions::new()
            .poll_interval(Duration::from_millis(20))
            .output(sink.clone())
            .open_with(move |url| {
                seen.lock().unwrap().push(url.to_string());
                true
            });
        client.login(opts).await.unwrap();
        let opened = opened.lock().unwrap().clone();
        let out = sink.text();
        if opens {
            assert_eq!(opened.len(), 1, "{page}: {out}");
            assert!(out.contains("Opened"), "{page}: {out}");
        } else {
            assert!(opened.is_empty(), "{page} was opened: {opened:?}");
            assert!(out.contains("was not opened"), "{page}: {out}");
            assert!(out.contains(page), "the page is shown to check: {out}");
            assert!(out.contains("WXYZ-1234"), "the code is shown too: {out}");
        }
        // the login goes on either way
        assert_eq!(client.token_source(), TokenSource::Login, "{page}");
    }
}

#[test]
fn a_planted_symlink_is_never_followed() {
    let dir = tempfile::tempdir().unwrap();
    let cache_dir = dir.path().join("brainstem");
    let tokens = cache_dir.join("tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let pid = std::process::id();
    let cache = TokenCache::in_dir(&cache_dir);
    let servers = ["https://www.brainstem.org/", "http://127.0.0.1:8000/"];
    // symlinks at every name a writer might predict, and at the cache files
    let mut planted = Vec::new();
    for server in servers {
        let path = cache.path_for(server);
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let folder = path.parent().unwrap().to_path_buf();
        for guess in [
            format!(".{name}.tmp{pid}"),
            format!(".{name}.tmp"),
            format!("{name}.tmp"),
            format!("{name}.tmp{pid}"),
            format!("{name}~"),
        ] {
            let link = folder.join(guess);
            std::os::unix::fs::symlink(&victim, &link).unwrap();
            planted.push(link);
        }
        std::os::unix::fs::symlink(&victim, &path).unwrap();
    }
    for (i, server) in servers.iter().enumerate() {
        let token = format!("token-{i}");
        let path = cache.store(server, &Token::new(&token)).unwrap();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert!(
            meta.file_type().is_file(),
            "{} is a regular file",
            path.display()
        );
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), token);
        assert_eq!(cache.load(server).unwrap().unwrap().0.expose(), token);
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    for link in &planted {
        let meta = std::fs::symlink_metadata(link).unwrap();
        assert!(
            meta.file_type().is_symlink(),
            "{} untouched",
            link.display()
        );
        assert_eq!(std::fs::read_link(link).unwrap(), victim);
    }
    // nothing else was left behind
    let left: Vec<_> = std::fs::read_dir(&cache_dir)
        .unwrap()
        .chain(std::fs::read_dir(&tokens).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| !planted.contains(p) && p != &tokens)
        .collect();
    assert_eq!(left.len(), 2, "the two cache files only: {left:?}");
}

#[test]
fn cache_folders_are_made_private_or_refused() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let cache_dir = dir.path().join("brainstem");
    let tokens = cache_dir.join("tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    std::fs::set_permissions(&cache_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(0o777)).unwrap();
    let cache = TokenCache::in_dir(&cache_dir);
    cache
        .store("http://127.0.0.1:8000/", &Token::new("t"))
        .unwrap();
    assert_eq!(mode(&cache_dir), 0o700);
    assert_eq!(mode(&tokens), 0o700);
    // new folders are private from the start
    let fresh = TokenCache::in_dir(dir.path().join("a/b"));
    let p = fresh
        .store("http://127.0.0.1:8000/", &Token::new("t"))
        .unwrap();
    assert_eq!(mode(p.parent().unwrap()), 0o700);
    assert_eq!(mode(&dir.path().join("a/b")), 0o700);

    // A folder that belongs to someone else is refused, naming it. Only root
    // can give a folder away, as CI runs.
    let me = std::fs::metadata(dir.path()).unwrap().uid();
    if me != 0 {
        eprintln!("not root: cannot hand a folder to another user; skipping that part");
        return;
    }
    let theirs = dir.path().join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
    let err = TokenCache::in_dir(&theirs)
        .store("https://www.brainstem.org/", &Token::new("secret-token"))
        .unwrap_err();
    match &err {
        Error::TokenCache { path, problem } => {
            assert_eq!(path, &theirs);
            assert!(problem.contains("belongs to user 65534"), "{problem}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.to_string().contains("secret-token"));
    assert_eq!(
        std::fs::read_dir(&theirs).unwrap().count(),
        0,
        "nothing written"
    );
    // and a subfolder of ours inside it is refused too
    let err = TokenCache::in_dir(&theirs)
        .store("http://127.0.0.1:8000/", &Token::new("t"))
        .unwrap_err();
    assert!(
        matches!(err, Error::TokenCache { ref path, .. } if path == &theirs),
        "{err:?}"
    );
}
