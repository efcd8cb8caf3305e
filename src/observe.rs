//! What decoding noticed without failing: fields the schema does not know,
//! documented fields that were absent, embedded records that fell back to
//! their id, values outside the documented sets.
//!
//! Decoders report into a collector that [`collect`] installs on the current
//! thread for the duration of a closure; with no collector installed a report
//! costs one thread-local read and builds nothing.
//!
//! ```
//! use brainstem::observe::{self, Observation};
//! use brainstem::types::DownloadLink;
//!
//! let (link, seen) = observe::collect(|| {
//!     serde_json::from_str::<DownloadLink>(
//!         r#"{"repository": "OpenNeuro", "url": "https://x", "mirror": true}"#,
//!     )
//! });
//! assert!(link.is_ok());
//! assert!(seen.contains(&Observation::UnknownField { shape: "DownloadLink", key: "mirror".into() }));
//! assert!(seen.contains(&Observation::UnknownEnumValue {
//!     enum_name: "DownloadLinkRepository",
//!     value: "OpenNeuro".into(),
//! }));
//! ```

use std::cell::{Cell, RefCell};
use std::fmt;

/// At most this many observations are kept per [`collect`]; the rest are
/// counted in a final [`Observation::Dropped`].
pub const LIMIT: usize = 256;

/// One thing a decoder noticed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Observation {
    /// A key the schema does not list for this shape (kept in its `unknown`).
    UnknownField {
        /// The shape (Rust type name, `Session`, `DownloadLink`).
        shape: &'static str,
        /// The key.
        key: String,
    },
    /// A field the server always returns, per the schema, was absent (listed
    /// in the record's `missing`).
    MissingField {
        /// The shape.
        shape: &'static str,
        /// The field's JSON name.
        field: &'static str,
    },
    /// An embedded related record did not decode; the relation holds its id.
    EmbeddedFallback {
        /// The related model (`project`).
        model: &'static str,
        /// The id it fell back to.
        id: String,
        /// Why the record did not decode.
        error: String,
    },
    /// An enum value the schema does not list (kept as `Unknown`).
    UnknownEnumValue {
        /// The enum (`DownloadLinkRepository`).
        enum_name: &'static str,
        /// The value.
        value: String,
    },
    /// A typed-payload selector the schema does not know (payload kept as `Unknown`).
    UnknownDetailsType {
        /// The schema group (`Procedure`).
        group: &'static str,
        /// The selector value.
        type_name: String,
    },
    /// A payload that does not fit the schema of its type (kept as `Unknown`).
    DetailsMismatch {
        /// The schema group.
        group: &'static str,
        /// The selector value.
        type_name: String,
        /// Why it did not fit.
        error: String,
    },
    /// A value of none of the documented kinds (a boolean in `extra_fields`),
    /// kept as `Other`.
    UnexpectedValue {
        /// The union type (`ExtraFieldsValue`).
        union: &'static str,
        /// The value's JSON text (at most 200 bytes of it).
        value: String,
    },
    /// A top-level key of a response envelope that its envelope schema does
    /// not list and that is no model's sideload key (`{"sessions": [...],
    /// "facets": {...}}`); the client reads past it.
    UnknownEnvelopeKey {
        /// The envelope schema (`SessionListEnvelope`).
        envelope: &'static str,
        /// The key.
        key: String,
    },
    /// This many more observations were made after [`LIMIT`].
    Dropped {
        /// How many.
        count: usize,
    },
}

impl fmt::Display for Observation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Observation::UnknownField { shape, key } => {
                write!(f, "{shape}: field `{key}` is not in the schema (kept)")
            }
            Observation::MissingField { shape, field } => {
                write!(f, "{shape}: field `{field}` was absent")
            }
            Observation::EmbeddedFallback { model, id, error } => write!(
                f,
                "embedded {model} {id} did not decode ({error}); kept its id"
            ),
            Observation::UnknownEnumValue { enum_name, value } => {
                write!(
                    f,
                    "{enum_name}: value {value:?} is not in the schema (kept)"
                )
            }
            Observation::UnknownDetailsType { group, type_name } => write!(
                f,
                "{group} details: type {type_name:?} is not in the schema (payload kept untyped)"
            ),
            Observation::DetailsMismatch {
                group,
                type_name,
                error,
            } => write!(
                f,
                "{group} details of type {type_name:?} do not fit their schema ({error}); payload kept untyped"
            ),
            Observation::UnexpectedValue { union, value } => {
                write!(f, "{union}: value {value} is of no documented kind (kept)")
            }
            Observation::UnknownEnvelopeKey { envelope, key } => {
                write!(f, "{envelope}: key `{key}` is not in the schema (ignored)")
            }
            Observation::Dropped { count } => write!(f, "{count} more observations not kept"),
        }
    }
}

struct Frame {
    items: Vec<Observation>,
    dropped: usize,
}

thread_local! {
    static DEPTH: Cell<usize> = const { Cell::new(0) };
    static FRAMES: RefCell<Vec<Frame>> = const { RefCell::new(Vec::new()) };
}

/// Pops the frame even when the closure panics.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        FRAMES.with(|f| f.borrow_mut().pop());
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// Run `f` with a collector installed on this thread; returns its result and
/// what decoders observed meanwhile (at most [`LIMIT`], then one
/// [`Observation::Dropped`]).
///
/// Nesting is safe: an inner `collect` takes what happens inside it, and the
/// outer one continues with its own list afterwards.
pub fn collect<T>(f: impl FnOnce() -> T) -> (T, Vec<Observation>) {
    let installed = Installed::new();
    let out = f();
    (out, installed.finish())
}

impl Installed {
    /// Push a fresh frame (the generic part of [`collect`] is only the call).
    fn new() -> Installed {
        FRAMES.with(|frames| {
            frames.borrow_mut().push(Frame {
                items: Vec::new(),
                dropped: 0,
            })
        });
        DEPTH.with(|d| d.set(d.get() + 1));
        Installed
    }

    /// Pop the frame: what was observed, with the count of what was not kept.
    fn finish(self) -> Vec<Observation> {
        let frame = FRAMES.with(|frames| frames.borrow_mut().pop());
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
        std::mem::forget(self);
        let mut items = Vec::new();
        if let Some(frame) = frame {
            items = frame.items;
            if frame.dropped > 0 {
                items.push(Observation::Dropped {
                    count: frame.dropped,
                });
            }
        }
        items
    }
}

/// Whether a collector is installed on this thread.
pub fn is_collecting() -> bool {
    DEPTH.with(Cell::get) > 0
}

/// Report an observation to the innermost collector; `make` runs only when
/// one is installed.
#[inline]
pub fn report(make: impl FnOnce() -> Observation) {
    if is_collecting() {
        push(make());
    }
}

/// The part of [`report`] that is the same for every caller: one copy in the
/// binary instead of one per call site (each closure type is a copy of a
/// generic function).
fn push(o: Observation) {
    FRAMES.with(|frames| {
        if let Some(top) = frames.borrow_mut().last_mut() {
            if top.items.len() < LIMIT {
                top.items.push(o);
            } else {
                top.dropped += 1;
            }
        }
    });
}

/// A point to roll back to: what was reported after it is forgotten by
/// [`rollback`] (used when a decoding attempt is abandoned, so its noise does
/// not outlive it).
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct Checkpoint {
    depth: usize,
    len: usize,
    dropped: usize,
}

#[doc(hidden)]
pub fn checkpoint() -> Option<Checkpoint> {
    let depth = DEPTH.with(Cell::get);
    if depth == 0 {
        return None;
    }
    FRAMES.with(|frames| {
        frames.borrow().last().map(|top| Checkpoint {
            depth,
            len: top.items.len(),
            dropped: top.dropped,
        })
    })
}

#[doc(hidden)]
pub fn rollback(cp: Option<Checkpoint>) {
    let Some(cp) = cp else { return };
    if DEPTH.with(Cell::get) != cp.depth {
        return;
    }
    FRAMES.with(|frames| {
        if let Some(top) = frames.borrow_mut().last_mut() {
            top.items.truncate(cp.len);
            top.dropped = cp.dropped;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unknown(key: &str) -> Observation {
        Observation::UnknownField {
            shape: "T",
            key: key.into(),
        }
    }

    #[test]
    fn nothing_without_a_collector() {
        let mut built = false;
        report(|| {
            built = true;
            unknown("a")
        });
        assert!(!built);
        assert!(!is_collecting());
    }

    #[test]
    fn nested_collectors_keep_their_own() {
        let (inner, outer) = collect(|| {
            report(|| unknown("outer-1"));
            let ((), inner) = collect(|| report(|| unknown("inner")));
            report(|| unknown("outer-2"));
            inner
        });
        assert_eq!(inner, vec![unknown("inner")]);
        assert_eq!(outer, vec![unknown("outer-1"), unknown("outer-2")]);
        assert!(!is_collecting());
    }

    #[test]
    fn bounded_and_counted() {
        let ((), seen) = collect(|| {
            for i in 0..LIMIT + 5 {
                report(|| unknown(&i.to_string()));
            }
        });
        assert_eq!(seen.len(), LIMIT + 1);
        assert_eq!(seen[LIMIT], Observation::Dropped { count: 5 });
    }

    #[test]
    fn rollback_forgets_an_abandoned_attempt() {
        let ((), seen) = collect(|| {
            report(|| unknown("kept"));
            let cp = checkpoint();
            report(|| unknown("abandoned"));
            rollback(cp);
        });
        assert_eq!(seen, vec![unknown("kept")]);
    }

    #[test]
    fn a_panic_uninstalls_the_collector() {
        let r = std::panic::catch_unwind(|| collect(|| panic!("boom")));
        assert!(r.is_err());
        assert!(!is_collecting());
    }
}
