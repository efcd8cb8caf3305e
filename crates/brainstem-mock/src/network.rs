//! A network between the client and the server, for tests and benchmarks
//! that should see one: the answer's body paced to a bandwidth. (The
//! latency knob waits before each request is served, in `routes.rs`;
//! compression is tower-http's layer, in front of the pacing so that the
//! bytes paced are the bytes on the wire.)

use std::pin::Pin;
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

/// Middleware: send the answer's body at `rate` bytes per second.
pub(crate) async fn throttle(State(rate): State<u64>, req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let (parts, body) = res.into_parts();
    Response::from_parts(parts, Body::new(Throttled::new(body, rate)))
}

/// A body released at a fixed rate: each chunk goes out once the time the
/// bytes before it and itself take at that rate has passed since the first
/// poll, so a body of `n` bytes takes at least `n / rate` seconds.
struct Throttled {
    inner: Body,
    rate: u64,
    /// When the first byte was asked for.
    start: Option<Instant>,
    /// Bytes released so far.
    sent: u64,
    /// Data read from `inner` and not yet released.
    pending: Bytes,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl Throttled {
    fn new(inner: Body, rate: u64) -> Throttled {
        Throttled {
            inner,
            rate: rate.max(1),
            start: None,
            sent: 0,
            pending: Bytes::new(),
            sleep: None,
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
            if let Some(s) = &mut this.sleep {
                ready!(s.as_mut().poll(cx));
                this.sleep = None;
            }
            if !this.pending.is_empty() {
                let n = this.pending.len().min(chunk_len(this.rate));
                let start = *this.start.get_or_insert_with(Instant::now);
                let due = start
                    + Duration::from_secs_f64((this.sent + n as u64) as f64 / this.rate as f64);
                if Instant::now() < due {
                    this.sleep = Some(Box::pin(tokio::time::sleep_until(due)));
                    continue;
                }
                this.sent += n as u64;
                return Poll::Ready(Some(Ok(Frame::data(this.pending.split_to(n)))));
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
        let t = Throttled::new(body, 200_000);
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
}
