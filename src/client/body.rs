//! What the client accepts from the wire, whatever the server claims: bodies
//! read as a stream under a size limit, and redirects followed only within
//! the configured server.

use bytes::{Bytes, BytesMut};

/// The default limit of one response body: 64 MiB, far above one page of
/// any model (a 1,000-record page of sessions is about 2 MiB).
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

/// How many redirects within the same server are followed.
const MAX_REDIRECTS: usize = 5;

/// Why a body was not read whole.
pub(crate) enum ReadError {
    /// The connection failed or timed out while reading.
    Transport(reqwest::Error),
    /// The body (announced or received) passed the limit; reading stopped.
    TooLarge,
}

/// Read a response body, stopping as soon as it passes `limit` bytes: an
/// announced `Content-Length` above the limit is refused before reading,
/// and a body without one (chunked, or lying) is counted while it arrives.
/// What is buffered never exceeds `limit` plus one chunk.
pub(crate) async fn read_limited(
    mut resp: reqwest::Response,
    limit: u64,
) -> Result<Bytes, ReadError> {
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(ReadError::TooLarge);
    }
    // Reserve what the server announced only up to a small bound: the
    // announcement is a claim, not a fact.
    let announced = resp.content_length().unwrap_or(0).min(1 << 20);
    let mut buf = BytesMut::with_capacity(announced as usize);
    while let Some(chunk) = resp.chunk().await.map_err(ReadError::Transport)? {
        if buf.len() as u64 + chunk.len() as u64 > limit {
            return Err(ReadError::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// The redirect rule: follow at most a few redirects, and only to the same
/// scheme, host and port as the request that was redirected. Anything else
/// (another host, `https` to `http`, another port) is not followed; the 3xx
/// comes back and becomes [`Error::Redirected`](crate::client::Error::Redirected).
pub(crate) fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same_origin = attempt
            .previous()
            .last()
            .is_some_and(|prev| same_origin(prev, attempt.url()));
        if same_origin && attempt.previous().len() <= MAX_REDIRECTS {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

fn same_origin(a: &reqwest::Url, b: &reqwest::Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        let u = |s: &str| reqwest::Url::parse(s).unwrap();
        assert!(same_origin(
            &u("https://www.brainstem.org/api/a/"),
            &u("https://www.brainstem.org:443/api/b/")
        ));
        assert!(!same_origin(
            &u("https://www.brainstem.org/"),
            &u("http://www.brainstem.org/")
        ));
        assert!(!same_origin(
            &u("https://www.brainstem.org/"),
            &u("https://evil.example/")
        ));
        assert!(!same_origin(
            &u("http://127.0.0.1:8000/"),
            &u("http://127.0.0.1:8001/")
        ));
    }
}
