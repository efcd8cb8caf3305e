//! Retry policy: which requests are retried, and how long to wait.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderMap;

/// How failed requests are retried.
///
/// GET, PUT and DELETE are retried on connection errors and on 408, 429,
/// 502, 503 and 504, with exponential backoff and jitter, honouring
/// `Retry-After`. POST and PATCH are retried only when the connection could
/// not be opened at all (nothing reached the server): a repeated create is
/// data corruption. A request that hits the timeout is not retried: the
/// timeout bounds how long one call may take.
///
/// ```
/// use std::time::Duration;
/// use brainstem::client::RetryPolicy;
/// let p = RetryPolicy::default().max_attempts(5).base_delay(Duration::from_millis(100));
/// assert_eq!(p.attempts(), 5);
/// assert_eq!(RetryPolicy::none().attempts(), 1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Total attempts, including the first (at least 1; default 3).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Delay before the first retry; doubled for each further one (default 250 ms).
    pub fn base_delay(mut self, d: Duration) -> Self {
        self.base_delay = d;
        self
    }

    /// Upper bound of the backoff delay (default 8 s).
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// The longest `Retry-After` the client waits for; a longer one ends the
    /// retries with [`Error::RateLimited`](super::Error::RateLimited) /
    /// [`Error::Server`](super::Error::Server) at once (default 60 s).
    pub fn max_retry_after(mut self, d: Duration) -> Self {
        self.max_retry_after = d;
        self
    }

    /// Total attempts.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    pub(crate) fn retry_after_limit(&self) -> Duration {
        self.max_retry_after
    }

    /// The delay before attempt `attempt + 1` (attempt counts from 1):
    /// exponential, capped, with "equal jitter" (between half and all of
    /// it), chosen by `roll`.
    pub(crate) fn backoff_with(&self, attempt: u32, roll: u64) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        let d = exp.min(self.max_delay);
        let half = d / 2;
        let nanos = half.as_nanos() as u64;
        let jitter = if nanos == 0 { 0 } else { roll % (nanos + 1) };
        half + Duration::from_nanos(jitter)
    }
}

/// Whether a status is worth retrying for an idempotent request.
pub(crate) fn retriable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 502 | 503 | 504)
}

/// How an attempt failed at the transport level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TransportKind {
    /// The connection could not be opened: nothing reached the server.
    Connect,
    /// No complete answer within the timeout.
    Timeout,
    /// The connection broke after the request may have been sent.
    Other,
}

impl TransportKind {
    pub(crate) fn of(e: &reqwest::Error) -> TransportKind {
        if e.is_timeout() {
            TransportKind::Timeout
        } else if e.is_connect() {
            TransportKind::Connect
        } else {
            TransportKind::Other
        }
    }
}

/// What one attempt came to, as far as retrying is concerned.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Outcome<'a> {
    /// An answer that is not a success (its status and headers).
    Status(u16, &'a HeaderMap),
    /// No answer.
    Transport(TransportKind),
}

/// Whether to try again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Send the request again after this delay.
    Retry {
        /// How long to wait first.
        after: Duration,
    },
    /// Report the failure.
    GiveUp,
}

/// The retry decision after attempt number `attempt` (counting from 1) of a
/// `method` request came to `outcome`, under `policy`; `roll` is a random
/// number for the backoff's jitter (so the decision itself is pure).
///
/// * A timeout is final: the timeout bounds how long one call may take.
/// * A connection that could not be opened is retried for every method
///   (nothing reached the server); other transport errors and retriable
///   statuses (408, 429, 502, 503, 504) only for idempotent methods (GET,
///   PUT, DELETE, HEAD, OPTIONS): a POST or PATCH that was sent is never
///   sent again, as a repeated create is data corruption.
/// * A status retry waits as long as `Retry-After` says, else the backoff;
///   a wait longer than [`RetryPolicy::max_retry_after`] gives up at once.
/// * Nothing is retried after [`RetryPolicy::attempts`] attempts.
pub(crate) fn decide(
    method: &Method,
    attempt: u32,
    outcome: Outcome<'_>,
    policy: &RetryPolicy,
    roll: u64,
) -> Decision {
    if attempt >= policy.attempts() {
        return Decision::GiveUp;
    }
    let idempotent = matches!(
        *method,
        Method::GET | Method::PUT | Method::DELETE | Method::HEAD | Method::OPTIONS
    );
    match outcome {
        Outcome::Transport(TransportKind::Timeout) => Decision::GiveUp,
        Outcome::Transport(TransportKind::Connect) => Decision::Retry {
            after: policy.backoff_with(attempt, roll),
        },
        Outcome::Transport(TransportKind::Other) if idempotent => Decision::Retry {
            after: policy.backoff_with(attempt, roll),
        },
        Outcome::Transport(TransportKind::Other) => Decision::GiveUp,
        Outcome::Status(status, headers) if idempotent && retriable_status(status) => {
            let after = retry_after(headers).unwrap_or_else(|| policy.backoff_with(attempt, roll));
            if after <= policy.retry_after_limit() {
                Decision::Retry { after }
            } else {
                Decision::GiveUp
            }
        }
        Outcome::Status(..) => Decision::GiveUp,
    }
}

/// The `Retry-After` header, if it is there and readable.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after)
}

/// Parse `Retry-After`: delta seconds, or an HTTP date.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Some(Duration::from_secs_f64(secs.min(1e9)));
        }
        return None;
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

/// A random number for the backoff's jitter.
pub(crate) fn random_u64() -> u64 {
    // RandomState is seeded per instance from OS randomness and a counter:
    // good enough for jitter, and no extra dependency.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0),
    );
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default()
            .base_delay(Duration::from_millis(100))
            .max_delay(Duration::from_millis(300));
        for roll in [0, 1, 7_777_777, u64::MAX / 3, u64::MAX] {
            let d1 = p.backoff_with(1, roll);
            assert!(d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100));
            let d3 = p.backoff_with(3, roll);
            assert!(d3 >= Duration::from_millis(150) && d3 <= Duration::from_millis(300));
            let d30 = p.backoff_with(30, roll);
            assert!(d30 <= Duration::from_millis(300));
        }
        // the roll picks the point between half and all of the delay
        assert_eq!(p.backoff_with(1, 0), Duration::from_millis(50));
        assert_eq!(p.backoff_with(2, 50_000_000), Duration::from_millis(150));
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    fn policy() -> RetryPolicy {
        RetryPolicy::default()
            .max_attempts(3)
            .base_delay(Duration::from_millis(100))
            .max_delay(Duration::from_secs(1))
            .max_retry_after(Duration::from_secs(10))
    }

    /// The delay of a retry, or `None` for giving up.
    fn after(method: Method, attempt: u32, outcome: Outcome<'_>) -> Option<Duration> {
        match decide(&method, attempt, outcome, &policy(), 0) {
            Decision::Retry { after } => Some(after),
            Decision::GiveUp => None,
        }
    }

    #[test]
    fn post_and_patch_are_never_sent_twice() {
        let none = headers(&[]);
        let soon = headers(&[("retry-after", "1")]);
        for m in [Method::POST, Method::PATCH] {
            for status in [408, 429, 500, 502, 503, 504] {
                assert_eq!(after(m.clone(), 1, Outcome::Status(status, &none)), None);
                assert_eq!(after(m.clone(), 1, Outcome::Status(status, &soon)), None);
            }
            let broken = Outcome::Transport(TransportKind::Other);
            assert_eq!(after(m.clone(), 1, broken), None, "{m}");
            let timeout = Outcome::Transport(TransportKind::Timeout);
            assert_eq!(after(m.clone(), 1, timeout), None, "{m}");
        }
    }

    #[test]
    fn a_connection_that_never_opened_is_retried_for_every_method() {
        for m in [Method::GET, Method::POST, Method::PATCH, Method::DELETE] {
            let connect = Outcome::Transport(TransportKind::Connect);
            assert_eq!(
                after(m.clone(), 1, connect),
                Some(Duration::from_millis(50)),
                "{m}"
            );
            // until the attempts are spent
            assert_eq!(after(m.clone(), 3, connect), None, "{m}");
        }
    }

    #[test]
    fn timeouts_are_final() {
        for m in [Method::GET, Method::PUT, Method::DELETE, Method::POST] {
            let timeout = Outcome::Transport(TransportKind::Timeout);
            assert_eq!(after(m.clone(), 1, timeout), None, "{m}");
        }
    }

    #[test]
    fn server_errors_on_idempotent_methods_back_off() {
        let none = headers(&[]);
        for m in [Method::GET, Method::PUT, Method::DELETE] {
            for status in [408, 429, 502, 503, 504] {
                assert_eq!(
                    after(m.clone(), 1, Outcome::Status(status, &none)),
                    Some(Duration::from_millis(50))
                );
                assert_eq!(
                    after(m.clone(), 2, Outcome::Status(status, &none)),
                    Some(Duration::from_millis(100))
                );
                assert_eq!(after(m.clone(), 3, Outcome::Status(status, &none)), None);
            }
            // a broken connection too (the request may not have arrived)
            let broken = Outcome::Transport(TransportKind::Other);
            assert_eq!(after(m.clone(), 1, broken), Some(Duration::from_millis(50)));
        }
        // a failure that repeating does not fix
        for status in [400, 401, 403, 404, 500, 501] {
            assert_eq!(after(Method::GET, 1, Outcome::Status(status, &none)), None);
        }
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let h = headers(&[("retry-after", "7")]);
        assert_eq!(
            after(Method::GET, 1, Outcome::Status(429, &h)),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            after(Method::GET, 1, Outcome::Status(503, &h)),
            Some(Duration::from_secs(7))
        );
        // longer than the policy waits for: give up at once
        let h = headers(&[("retry-after", "11")]);
        assert_eq!(after(Method::GET, 1, Outcome::Status(429, &h)), None);
        // unreadable: the backoff instead
        let h = headers(&[("retry-after", "soon")]);
        assert_eq!(
            after(Method::GET, 1, Outcome::Status(429, &h)),
            Some(Duration::from_millis(50))
        );
        // a backoff longer than the cap gives up too
        let slow = RetryPolicy::default()
            .base_delay(Duration::from_secs(30))
            .max_delay(Duration::from_secs(30))
            .max_retry_after(Duration::from_secs(1));
        let none = headers(&[]);
        assert_eq!(
            decide(&Method::GET, 1, Outcome::Status(503, &none), &slow, 0),
            Decision::GiveUp
        );
    }

    #[test]
    fn one_attempt_means_no_retry() {
        let none = headers(&[]);
        let p = RetryPolicy::none();
        for outcome in [
            Outcome::Status(503, &none),
            Outcome::Transport(TransportKind::Connect),
        ] {
            assert_eq!(decide(&Method::GET, 1, outcome, &p, 0), Decision::GiveUp);
        }
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }
}
