//! Device-authorization login and logout.
//!
//! `POST /api/auth/device/` starts a sign-in; the user approves it in a
//! browser (with 2FA); the client polls `POST /api/auth/device/token/` at
//! the server's interval until it answers `success` with a token, or
//! `access_denied`, `expired_token` or `already_used`. The token is then
//! cached for this server and used by the client at once.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::Method;
use serde_json::Value;

use super::{Auth, Client, Error, LoginError, Request, Token, TokenSource};
use crate::Operation;
use crate::types::DeviceAuthorization;

/// What the user must do to approve a login.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevicePrompt {
    /// The page where the code is entered (headless mode).
    pub verification_uri: Option<String>,
    /// The page that approves this login directly (browser mode).
    pub verification_uri_complete: String,
    /// The code to enter.
    pub user_code: Option<String>,
    /// How long the code stays valid.
    pub expires_in: Option<Duration>,
}

/// How [`Client::login`] talks to the user.
///
/// ```
/// use std::time::Duration;
/// use brainstem::client::LoginOptions;
/// let opts = LoginOptions::new()
///     .headless(true)
///     .client_name("my-pipeline")
///     .deadline(Duration::from_secs(300));
/// ```
pub struct LoginOptions {
    headless: bool,
    client_name: String,
    deadline: Option<Duration>,
    poll_interval: Option<Duration>,
    output: Box<dyn Write + Send>,
    on_prompt: Option<PromptHook>,
    browser: Option<BrowserHook>,
}

type PromptHook = Box<dyn FnMut(&DevicePrompt) + Send>;
type BrowserHook = Box<dyn FnMut(&str) -> bool + Send>;

impl std::fmt::Debug for LoginOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginOptions")
            .field("headless", &self.headless)
            .field("client_name", &self.client_name)
            .field("deadline", &self.deadline)
            .field("poll_interval", &self.poll_interval)
            .field("custom_browser", &self.browser.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for LoginOptions {
    fn default() -> Self {
        LoginOptions {
            headless: false,
            client_name: "brainstem-rs".to_string(),
            deadline: None,
            poll_interval: None,
            output: Box::new(std::io::stderr()),
            on_prompt: None,
            browser: None,
        }
    }
}

impl LoginOptions {
    /// Defaults: open a browser, messages on stderr, wait as long as the code is valid.
    pub fn new() -> Self {
        Self::default()
    }

    /// Do not open a browser: print the URL and the code to enter instead.
    pub fn headless(mut self, headless: bool) -> Self {
        self.headless = headless;
        self
    }

    /// The name the token is labelled with on the server (default `brainstem-rs`).
    pub fn client_name(mut self, name: impl Into<String>) -> Self {
        self.client_name = name.into();
        self
    }

    /// Give up after this long (default: the code's `expires_in`, else 15 minutes).
    pub fn deadline(mut self, d: Duration) -> Self {
        self.deadline = Some(d);
        self
    }

    /// Poll at this interval instead of the server's (for tests and tools
    /// talking to a local server).
    pub fn poll_interval(mut self, d: Duration) -> Self {
        self.poll_interval = Some(d);
        self
    }

    /// Where the instructions are written (default stderr).
    pub fn output(mut self, w: impl Write + Send + 'static) -> Self {
        self.output = Box::new(w);
        self
    }

    /// Called with the prompt once the sign-in has started (e.g. to show it in a GUI).
    pub fn on_prompt(mut self, f: impl FnMut(&DevicePrompt) + Send + 'static) -> Self {
        self.on_prompt = Some(Box::new(f));
        self
    }

    /// Open the sign-in page with `f` instead of the system's browser (the
    /// `webbrowser` crate); `f` says whether it opened the page. Either way
    /// only a page that passes the check is opened: `https` on the
    /// configured server's host, or `http` on this machine (the stand-in
    /// server). Any other page is printed for the user to check.
    pub fn open_with(mut self, f: impl FnMut(&str) -> bool + Send + 'static) -> Self {
        self.browser = Some(Box::new(f));
        self
    }
}

/// Whether a sign-in page may be opened in a browser: an `https` page on the
/// host of `server` (the configured base URL), or an `http` page on this
/// machine (the stand-in server). `Err` says why not; such a page is only
/// printed, for the user to check.
pub(crate) fn browser_check(page: &str, server: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(page).map_err(|_| "it is not a web address".to_string())?;
    let host = url.host_str().unwrap_or_default();
    match url.scheme() {
        "https" => {
            let server_host = reqwest::Url::parse(server)
                .ok()
                .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
                .unwrap_or_default();
            if host.eq_ignore_ascii_case(&server_host) {
                Ok(url)
            } else {
                Err(format!(
                    "it is on {host}, not on the server you are logging in to ({server_host})"
                ))
            }
        }
        "http" if super::loopback_host(host) => Ok(url),
        "http" => Err(format!(
            "it is a plain http:// page on {host}, which is not this machine"
        )),
        other => Err(format!("it is a {other}: address, not a web page")),
    }
}

/// Open a page in the system's browser. Only http(s) pages get this far
/// (and the `webbrowser` crate is built to refuse anything else too).
async fn system_browser(url: &str) -> bool {
    let url = url.to_string();
    let task = tokio::task::spawn_blocking(move || {
        webbrowser::open_browser_with_options(
            webbrowser::Browser::Default,
            &url,
            webbrowser::BrowserOptions::new().with_suppress_output(true),
        )
        .is_ok()
    });
    match tokio::time::timeout(Duration::from_secs(5), task).await {
        Ok(opened) => opened.unwrap_or(false),
        // a browser that keeps the opener busy (a text browser) did open
        Err(_) => true,
    }
}

fn field<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

impl Client {
    /// Log in with the device-authorization flow, cache the token for this
    /// server (mode 0600) and use it from now on. Returns where it was cached.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), brainstem::client::Error> {
    /// use brainstem::client::{Client, LoginOptions};
    /// let client = Client::from_env()?;
    /// client.login(LoginOptions::new().headless(true)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn login(&self, mut opts: LoginOptions) -> Result<Option<PathBuf>, Error> {
        if !self.inner.secure_enough {
            return Err(Error::InsecureUrl {
                url: self.inner.base.clone(),
            });
        }
        let start_body = serde_json::json!({ "client_name": opts.client_name });
        let resp = self
            .send(Request {
                method: Method::POST,
                path: Operation::AuthDeviceCreate.path().into(),
                query: None,
                body: Some(Bytes::from(start_body.to_string())),
                auth: Auth::None,
            })
            .await?;
        let started = Instant::now();
        let auth: DeviceAuthorization = crate::decode(&resp.body)?;
        let prompt = DevicePrompt {
            verification_uri: auth.verification_uri.clone(),
            verification_uri_complete: auth.verification_uri_complete.clone(),
            user_code: auth.user_code.clone(),
            expires_in: auth
                .expires_in
                .and_then(|s| u64::try_from(s).ok())
                .map(Duration::from_secs),
        };
        let out = &mut opts.output;
        if opts.headless {
            match (&prompt.verification_uri, &prompt.user_code) {
                (Some(uri), Some(code)) => {
                    let _ = writeln!(out, "Open {uri} in a browser and enter the code: {code}");
                }
                _ => {
                    let _ = writeln!(
                        out,
                        "Open {} in a browser and approve the sign-in.",
                        prompt.verification_uri_complete
                    );
                }
            }
        } else {
            let page = &prompt.verification_uri_complete;
            match browser_check(page, &self.inner.base) {
                Ok(url) => {
                    let opened = match opts.browser.as_mut() {
                        Some(open) => open(url.as_str()),
                        None => system_browser(url.as_str()).await,
                    };
                    if opened {
                        let _ = writeln!(
                            out,
                            "Opened {page} in your browser: approve the sign-in there (if no browser appeared, open the link yourself)."
                        );
                    } else {
                        let _ = writeln!(
                            out,
                            "Could not open a browser. Open {page} and approve the sign-in."
                        );
                    }
                }
                Err(why) => {
                    let _ = writeln!(
                        out,
                        "The server sent a sign-in page that was not opened, as {why}: {page:?}. Check it before you open it yourself."
                    );
                    if let (Some(uri), Some(code)) = (&prompt.verification_uri, &prompt.user_code) {
                        let _ = writeln!(out, "Or open {uri:?} and enter the code: {code}");
                    }
                }
            }
        }
        let _ = writeln!(out, "Waiting for approval...");
        let _ = out.flush();
        if let Some(f) = opts.on_prompt.as_mut() {
            f(&prompt);
        }

        let mut interval = opts.poll_interval.unwrap_or_else(|| {
            Duration::from_secs(
                auth.interval
                    .and_then(|i| u64::try_from(i).ok())
                    .unwrap_or(5)
                    .max(1),
            )
        });
        let deadline = opts
            .deadline
            .or(prompt.expires_in)
            .unwrap_or(Duration::from_secs(900));
        let poll_body =
            Bytes::from(serde_json::json!({ "device_code": auth.device_code }).to_string());
        loop {
            if started.elapsed() + interval > deadline {
                let rest = deadline.saturating_sub(started.elapsed());
                tokio::time::sleep(rest).await;
                return Err(LoginError::TimedOut(deadline).into());
            }
            tokio::time::sleep(interval).await;
            let resp = self
                .send_raw(Request {
                    method: Method::POST,
                    path: Operation::AuthDeviceToken.path().into(),
                    query: None,
                    body: Some(poll_body.clone()),
                    auth: Auth::None,
                })
                .await?;
            let v: Value = match serde_json::from_slice(&resp.body) {
                Ok(v) => v,
                Err(_) if resp.status >= 400 => {
                    return Err(super::error::from_response(
                        &Method::POST,
                        Operation::AuthDeviceToken.path(),
                        resp.status,
                        None,
                        &resp.body,
                    ));
                }
                Err(e) => {
                    return Err(LoginError::Unexpected(format!(
                        "the poll answer is not JSON ({e})"
                    ))
                    .into());
                }
            };
            match (field(&v, "status"), field(&v, "error")) {
                (Some("success"), _) => {
                    let Some(t) = field(&v, "token").filter(|t| !t.trim().is_empty()) else {
                        return Err(
                            LoginError::Unexpected("`success` without a token".into()).into()
                        );
                    };
                    let token = Token::new(t);
                    let path = match &self.inner.cache {
                        Some(c) => Some(c.store(&self.inner.base, &token)?),
                        None => None,
                    };
                    self.set_token(Some(token), TokenSource::Login);
                    let _ = writeln!(opts.output, "Logged in to {}.", self.inner.base);
                    return Ok(path);
                }
                (_, Some("authorization_pending")) | (Some("authorization_pending"), _) => continue,
                (_, Some("slow_down")) => {
                    interval += Duration::from_secs(5);
                    continue;
                }
                (_, Some("access_denied")) => return Err(LoginError::AccessDenied.into()),
                (_, Some("expired_token")) => return Err(LoginError::Expired.into()),
                (_, Some("already_used")) => return Err(LoginError::AlreadyUsed.into()),
                (status, error) => {
                    if resp.status >= 400 {
                        return Err(super::error::from_response(
                            &Method::POST,
                            Operation::AuthDeviceToken.path(),
                            resp.status,
                            None,
                            &resp.body,
                        ));
                    }
                    // Name only the protocol fields: the body might hold a token.
                    return Err(LoginError::Unexpected(format!(
                        "status {:?}, error {:?}",
                        status.unwrap_or("none"),
                        error.unwrap_or("none")
                    ))
                    .into());
                }
            }
        }
    }

    /// Forget the token of this server: remove it from the cache and, if it
    /// came from the cache or a login, from this client. Returns whether a
    /// cached token was removed.
    pub fn logout(&self) -> Result<bool, Error> {
        let removed = match &self.inner.cache {
            Some(c) => c.remove(&self.inner.base)?,
            None => false,
        };
        if matches!(
            self.token_source(),
            TokenSource::Cache(_) | TokenSource::Login
        ) {
            self.set_token(None, TokenSource::None);
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::browser_check;

    #[test]
    fn only_pages_of_the_server_or_this_machine_are_opened() {
        let server = "https://www.brainstem.org/";
        for ok in [
            "https://www.brainstem.org/account/authorize/?session=abc",
            "https://WWW.BrainSTEM.org:443/x",
            "http://127.0.0.1:8000/account/authorize/",
            "http://localhost/authorize/",
            "http://[::1]:9/authorize/",
        ] {
            assert!(browser_check(ok, server).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("file:///etc/passwd", "file:"),
            (
                "https://brainstem.org.evil.example/authorize/",
                "evil.example",
            ),
            ("https://www.brainstem.org@evil.example/", "evil.example"),
            ("http://www.brainstem.org/authorize/", "plain http"),
            ("http://10.0.0.1/authorize/", "plain http"),
            ("javascript:alert(1)", "javascript:"),
            ("ssh://www.brainstem.org/", "ssh:"),
            ("/account/authorize/", "not a web address"),
        ] {
            let err = browser_check(bad, server).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
        // the stand-in server: its own pages are on this machine
        assert!(browser_check("http://127.0.0.1:1234/a/", "http://127.0.0.1:1234/").is_ok());
        assert!(browser_check("https://www.brainstem.org/a/", "http://127.0.0.1:1234/").is_err());
    }
}
