//! How many list pages are in flight at once: a pure controller that the
//! list driver feeds with page arrivals and throttling signals.
//!
//! By default the window adapts to the link. A walk's first page is fetched
//! alone, which measures the page rate of a window of one. The window then
//! opens at [`DEFAULT_CONCURRENCY`](super::DEFAULT_CONCURRENCY) and measures
//! the rate over one round (as many arrivals as pages in flight); while a
//! larger window still raises the rate by at least [`GAIN`], it doubles, up
//! to [`MAX_IN_FLIGHT`] (each round costs a round trip, so growing one page
//! at a time would spend several round trips below the window the link
//! wants). When a step brings no gain it steps back halfway and settles. A
//! 429 or 503 from the server halves it (never below one) and stops the
//! growth. A window the user fixed
//! (`concurrency(n)`) does not grow, but still halves on 429/503.

use std::time::Instant;

/// The most list requests in flight to one server by default.
pub const MAX_IN_FLIGHT: usize = 8;

/// The rate gain a larger window must bring to keep growing.
const GAIN: f64 = 1.10;

/// What the user asked for: a fixed window, or an adaptive one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Prefetch {
    /// The window to start with.
    pub start: usize,
    /// The largest window.
    pub max: usize,
    /// Whether it grows with the measured rate.
    pub adaptive: bool,
}

impl Prefetch {
    /// A window of exactly `n`.
    pub(crate) fn fixed(n: usize) -> Prefetch {
        let n = n.max(1);
        Prefetch {
            start: n,
            max: n,
            adaptive: false,
        }
    }

    /// The default: adaptive from `start` up to [`MAX_IN_FLIGHT`].
    pub(crate) fn adaptive(start: usize) -> Prefetch {
        Prefetch {
            start: start.clamp(1, MAX_IN_FLIGHT),
            max: MAX_IN_FLIGHT,
            adaptive: true,
        }
    }
}

/// The controller.
#[derive(Debug)]
pub(crate) struct Window {
    size: usize,
    max: usize,
    growing: bool,
    round_start: Option<Instant>,
    round_pages: usize,
    /// When the walk's first request went out.
    first_sent: Option<Instant>,
    /// The rate measured at `last_size`, the window before the last step.
    last_rate: Option<f64>,
    last_size: usize,
}

impl Window {
    pub(crate) fn new(p: Prefetch) -> Window {
        Window {
            size: p.start.max(1),
            max: p.max.max(1),
            growing: p.adaptive,
            round_start: None,
            round_pages: 0,
            first_sent: None,
            last_rate: None,
            last_size: p.start.max(1),
        }
    }

    /// Pages to keep in flight now.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// The walk's first request went out at `now` (its answer, fetched
    /// alone, measures a window of one).
    pub(crate) fn on_first_request(&mut self, now: Instant) {
        self.first_sent.get_or_insert(now);
    }

    /// A page arrived at `now`.
    pub(crate) fn on_page(&mut self, now: Instant) {
        if !self.growing {
            return;
        }
        let Some(start) = self.round_start else {
            // the first arrival: the rate of one page alone, if its request
            // was seen; it starts the first round
            if let Some(sent) = self.first_sent.filter(|_| self.size > 1) {
                let secs = now.saturating_duration_since(sent).as_secs_f64().max(1e-6);
                self.last_rate = Some(1.0 / secs);
                self.last_size = 1;
            }
            self.round_start = Some(now);
            return;
        };
        self.round_pages += 1;
        if self.round_pages < self.size.max(2) {
            return;
        }
        let secs = now.saturating_duration_since(start).as_secs_f64().max(1e-6);
        let rate = self.round_pages as f64 / secs;
        match self.last_rate {
            Some(prev) if rate < prev * GAIN => {
                // the last step bought nothing: step back halfway and stay
                self.size = self.last_size.midpoint(self.size).max(1);
                self.growing = false;
            }
            _ if self.size >= self.max => self.growing = false,
            _ => {
                self.last_rate = Some(rate);
                self.last_size = self.size;
                self.size = (self.size * 2).min(self.max);
            }
        }
        self.round_start = Some(now);
        self.round_pages = 0;
    }

    /// The server said to slow down (429 or 503).
    pub(crate) fn on_throttle(&mut self) {
        self.size = (self.size / 2).max(1);
        self.growing = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Feed arrivals: `w` pages arrive per `round_time(w)` at window `w`.
    fn run(p: Prefetch, rounds: usize, round_time: impl Fn(usize) -> Duration) -> Vec<usize> {
        let mut w = Window::new(p);
        let mut now = Instant::now();
        // the first page, alone
        w.on_first_request(now);
        now += round_time(1);
        w.on_page(now);
        let mut sizes = vec![w.size()];
        for _ in 0..rounds {
            // w pages arrive per round at window w; a measuring round is
            // at least two arrivals
            let n = w.size().max(2);
            let step = round_time(w.size()) / w.size() as u32;
            for _ in 0..n {
                now += step;
                w.on_page(now);
            }
            sizes.push(w.size());
        }
        sizes
    }

    #[test]
    fn it_grows_while_more_in_flight_help_and_stops_at_eight() {
        // latency-bound: a round of n pages takes one round trip whatever n
        let sizes = run(Prefetch::adaptive(4), 10, |_| Duration::from_millis(100));
        assert_eq!(sizes, [4, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8]);
        let sizes = run(Prefetch::adaptive(1), 6, |_| Duration::from_millis(100));
        assert_eq!(sizes, [1, 2, 4, 8, 8, 8, 8]);
    }

    #[test]
    fn the_first_page_alone_is_the_baseline_of_the_first_window() {
        // latency-bound: eight in flight are eight times one alone
        let sizes = run(Prefetch::adaptive(8), 3, |_| Duration::from_millis(100));
        assert_eq!(sizes, [8, 8, 8, 8]);
        // bandwidth-bound: eight in flight fetch no faster than one alone
        let sizes = run(Prefetch::adaptive(8), 3, |w| {
            Duration::from_millis(100 * w as u64)
        });
        assert_eq!(sizes, [8, 4, 4, 4]);
        // without the first request's time there is no baseline: the first
        // window is its own
        let mut w = Window::new(Prefetch::adaptive(8));
        let now = Instant::now();
        for i in 0..=8u64 {
            w.on_page(now + Duration::from_millis(100 * i));
        }
        assert_eq!(w.size(), 8);
    }

    #[test]
    fn it_steps_back_when_more_bring_nothing() {
        // bandwidth-bound from 4 on: rounds take time proportional to pages,
        // so 8 in flight fetch no faster than 4
        let sizes = run(Prefetch::adaptive(4), 6, |w| {
            Duration::from_millis(100 * w.max(4) as u64 / 4)
        });
        assert_eq!(sizes, [4, 8, 6, 6, 6, 6, 6]);
        // bandwidth-bound from 2 on, starting from 1: 1, 2, 4, then halfway back
        let sizes = run(Prefetch::adaptive(1), 6, |w| {
            Duration::from_millis(100 * w.max(2) as u64 / 2)
        });
        assert_eq!(sizes, [1, 2, 4, 3, 3, 3, 3]);
    }

    #[test]
    fn throttling_halves_and_stops_growth() {
        let mut w = Window::new(Prefetch::adaptive(8));
        w.on_throttle();
        assert_eq!(w.size(), 4);
        w.on_throttle();
        w.on_throttle();
        w.on_throttle();
        assert_eq!(w.size(), 1);
        let now = Instant::now();
        for i in 0..20 {
            w.on_page(now + Duration::from_millis(i));
        }
        assert_eq!(w.size(), 1);
    }

    #[test]
    fn a_fixed_window_stays_but_still_yields_to_throttling() {
        let sizes = run(Prefetch::fixed(3), 4, |_| Duration::from_millis(100));
        assert_eq!(sizes, [3, 3, 3, 3, 3]);
        let mut w = Window::new(Prefetch::fixed(3));
        w.on_throttle();
        assert_eq!(w.size(), 1);
        assert_eq!(Prefetch::fixed(0).start, 1);
        assert_eq!(Prefetch::adaptive(50).start, MAX_IN_FLIGHT);
    }
}
