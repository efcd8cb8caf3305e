//! A network between the client and the server, for tests and benchmarks
//! that should see one: answers' bodies paced to a bandwidth they share. (The
//! latency knob waits before each request is served, in `routes.rs`;
//! compression is tower-http's layer, in front of the pacing so that the
//! bytes paced are the bytes on the wire.)

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// How much of the body goes out at once: a twentieth of a second's worth
/// (at least one byte, at most 64 KiB).
fn chunk_len(rate: u64) -> usize {
    usize::try_from(rate / 20)
        .unwrap_or(usize::MAX)
        .clamp(1, 64 * 1024)
}

/// The link every answer of one server shares: `rate` bytes per second in
/// total, chunks sent one after the other in the order they are ready (a
/// chunk of a second answer waits for the chunk of the first that is on the
/// wire), so answers in flight together share the bandwidth as on a real
/// line.
#[derive(Clone)]
pub(crate) struct Link {
    rate: u64,
    /// Bytes carried so far.
    carried: Arc<AtomicU64>,
    /// When the chunks reserved so far will all have been sent.
    free_at: Arc<Mutex<Option<Instant>>>,
}

impl Link {
    pub(crate) fn new(rate: u64, carried: Arc<AtomicU64>) -> Link {
        Link {
            rate: rate.max(1),
            carried,
            free_at: Arc::new(Mutex::new(None)),
        }
    }

    /// Reserve the line for `n` bytes after what is already reserved:
    /// when they will have been sent.
    fn reserve(&self, n: usize) -> Instant {
        let now = Instant::now();
        let mut free_at = self.free_at.lock().unwrap_or_else(|e| e.into_inner());
        let start = free_at.filter(|f| *f > now).unwrap_or(now);
        let done = start + Duration::from_secs_f64(n as f64 / self.rate as f64);
        *free_at = Some(done);
        self.carried.fetch_add(n as u64, Ordering::Relaxed);
        done
    }
}

/// Middleware: send the answer's body over the server's [`Link`].
pub(crate) async fn throttle(State(link): State<Link>, req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let (parts, body) = res.into_parts();
    Response::from_parts(parts, Body::new(Throttled::new(body, link)))
}

/// A body released over a [`Link`]: each chunk goes out once the line has
/// carried it, so a body of `n` bytes takes at least `n / rate` seconds, and
/// longer while other answers share the line.
struct Throttled {
    inner: Body,
    link: Link,
    /// Data read from `inner` and not yet released.
    pending: Bytes,
    /// The chunk on the wire: its length and when it has been sent.
    sending: Option<(usize, Pin<Box<Sleep>>)>,
}

impl Throttled {
    fn new(inner: Body, link: Link) -> Throttled {
        Throttled {
            inner,
            link,
            pending: Bytes::new(),
            sending: None,
        }
    }
}

impl HttpBody for Throttled {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        loop {
            if let Some((n, sleep)) = &mut this.sending {
                ready!(sleep.as_mut().poll(cx));
                let n = *n;
                this.sending = None;
                return Poll::Ready(Some(Ok(Frame::data(this.pending.split_to(n)))));
            }
            if !this.pending.is_empty() {
                let n = this.pending.len().min(chunk_len(this.link.rate));
                let done = this.link.reserve(n);
                this.sending = Some((n, Box::pin(tokio::time::sleep_until(done))));
                continue;
            }
            match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => this.pending = data,
                    Err(other) => return Poll::Ready(Some(Ok(other))),
                },
                done => return Poll::Ready(done),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.pending.is_empty() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let inner = self.inner.size_hint();
        let held = self.pending.len() as u64;
        let mut hint = SizeHint::new();
        hint.set_lower(inner.lower().saturating_add(held));
        if let Some(upper) = inner.upper() {
            hint.set_upper(upper.saturating_add(held));
        }
        hint
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn drain(mut body: Throttled) -> (usize, usize) {
        let (mut bytes, mut frames) = (0, 0);
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            bytes += frame.expect("data").into_data().expect("data").len();
            frames += 1;
        }
        (bytes, frames)
    }

    #[tokio::test]
    async fn a_body_takes_its_size_over_the_rate() {
        let body = Body::from(vec![7u8; 50_000]);
        let t = Throttled::new(body, Link::new(200_000, Default::default()));
        assert_eq!(t.size_hint().exact(), Some(50_000), "the length is kept");
        let start = std::time::Instant::now();
        let (bytes, frames) = drain(t).await;
        let took = start.elapsed();
        assert_eq!(bytes, 50_000);
        assert_eq!(frames, 5, "10 000-byte chunks at 200 000 bytes/s");
        assert!(took >= Duration::from_millis(250), "{took:?}");
        assert_eq!(chunk_len(0), 1);
        assert_eq!(chunk_len(u64::MAX), 64 * 1024);
    }

    #[tokio::test]
    async fn answers_in_flight_share_the_line() {
        let carried = Arc::new(AtomicU64::new(0));
        let link = Link::new(200_000, carried.clone());
        let start = std::time::Instant::now();
        let bodies =
            (0..4).map(|_| drain(Throttled::new(Body::from(vec![1u8; 25_000]), link.clone())));
        let done = futures::future::join_all(bodies).await;
        let took = start.elapsed();
        assert!(done.iter().all(|(bytes, _)| *bytes == 25_000));
        assert_eq!(carried.load(Ordering::Relaxed), 100_000);
        // 100 000 bytes in all over 200 000 bytes/s: half a second, not the
        // eighth each body would take on a line of its own
        assert!(took >= Duration::from_millis(490), "{took:?}");
        assert!(took < Duration::from_secs(3), "{took:?}");
    }
}
