//! The cost budget of one request: how many records the query may reach
//! through relations (filters, sorts, includes) and how long its work may
//! take. A query past either limit is refused with 400 instead of keeping a
//! CPU busy: filters chained through relations (`projects.sessions.projects.
//! sessions...`) or nested includes grow by the fan-out of every step.
//!
//! Work is counted in visits: one per record reached through a relation
//! step (a filter or sort path, an included relation). A plain filter or
//! sort on the model's own fields costs no visits, only time. The clock is
//! read every [`CLOCK_EVERY`] visits and whenever the caller asks
//! ([`Budget::tick`]), so an exhausted budget is noticed within a few
//! microseconds of work.

use std::cell::Cell;
use std::time::{Duration, Instant};

use super::reply::ApiError;

/// Visits between two readings of the clock.
const CLOCK_EVERY: u64 = 256;

/// The limits of a request's work, fixed at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Records a request may reach through relations.
    pub max_visits: u64,
    /// Wall time a request's query work may take (`None`: unbounded).
    pub max_time: Option<Duration>,
}

/// Why a budget ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exhausted {
    /// More visits than the limit.
    Visits(u64),
    /// More time than the limit.
    Time(Duration),
}

impl Exhausted {
    /// The 400 answer, naming `what` (a filter, a sort or the includes) as
    /// the part of the query that was too expensive.
    pub fn refuse(self, what: &str) -> ApiError {
        let cost = match self {
            Exhausted::Visits(n) => format!("visits more than {n} records"),
            Exhausted::Time(d) => format!("takes longer than {}", show(d)),
        };
        ApiError::parse(format!(
            "This query {cost} ({what}); narrow it (fewer relation steps, \
             fewer or shallower includes, a smaller page)."
        ))
    }
}

fn show(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// One request's budget (one thread uses it; counters are cells so that
/// shared references can spend).
#[derive(Debug)]
pub(crate) struct Budget {
    limits: Limits,
    deadline: Option<Instant>,
    visits: Cell<u64>,
    next_clock: Cell<u64>,
    out: Cell<Option<Exhausted>>,
}

impl Budget {
    /// A fresh budget; the clock starts now.
    pub fn new(limits: Limits) -> Budget {
        Budget {
            limits,
            deadline: limits.max_time.and_then(|t| Instant::now().checked_add(t)),
            visits: Cell::new(0),
            next_clock: Cell::new(CLOCK_EVERY),
            out: Cell::new(None),
        }
    }

    /// Count `n` visits.
    pub fn spend(&self, n: u64) -> Result<(), Exhausted> {
        if let Some(x) = self.out.get() {
            return Err(x);
        }
        let v = self.visits.get().saturating_add(n);
        self.visits.set(v);
        if v > self.limits.max_visits {
            return Err(self.fail(Exhausted::Visits(self.limits.max_visits)));
        }
        if v >= self.next_clock.get() {
            self.next_clock.set(v.saturating_add(CLOCK_EVERY));
            return self.tick();
        }
        Ok(())
    }

    /// Read the clock.
    pub fn tick(&self) -> Result<(), Exhausted> {
        if let Some(x) = self.out.get() {
            return Err(x);
        }
        match (self.deadline, self.limits.max_time) {
            (Some(d), Some(t)) if Instant::now() > d => Err(self.fail(Exhausted::Time(t))),
            _ => Ok(()),
        }
    }

    /// Whether the budget has run out (and why).
    pub fn exhausted(&self) -> Option<Exhausted> {
        self.out.get()
    }

    /// Visits counted so far.
    pub fn visits(&self) -> u64 {
        self.visits.get()
    }

    fn fail(&self, x: Exhausted) -> Exhausted {
        self.out.set(Some(x));
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visits_and_time_run_out() {
        let b = Budget::new(Limits {
            max_visits: 10,
            max_time: None,
        });
        assert!(b.spend(10).is_ok());
        assert_eq!(b.spend(1), Err(Exhausted::Visits(10)));
        assert_eq!(b.tick(), Err(Exhausted::Visits(10)), "stays exhausted");
        let b = Budget::new(Limits {
            max_visits: u64::MAX,
            max_time: Some(Duration::from_millis(1)),
        });
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(b.tick(), Err(Exhausted::Time(Duration::from_millis(1))));
        let msg = Exhausted::Visits(7).refuse("filter{a.b}").body.to_string();
        assert!(msg.contains("more than 7 records (filter{a.b})"), "{msg}");
        let msg = Exhausted::Time(Duration::from_secs(2))
            .refuse("x")
            .body
            .to_string();
        assert!(msg.contains("longer than 2 s"), "{msg}");
        let unlimited = Budget::new(Limits {
            max_visits: u64::MAX,
            max_time: None,
        });
        assert!(unlimited.spend(u64::MAX - 1).is_ok());
    }
}
