//! How the server words its answers: the documented shape, or the way a
//! dynamic-rest server really answers, or a server that has drifted from
//! its documentation. See [`Dialect`].

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use super::catalog::{EntityId, catalog};

/// How list responses are paged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Pagination {
    /// The documented style: `limit` / `offset` in the query; `count`,
    /// `next`, `previous` and a `meta` object (`page`, `per_page`,
    /// `total_pages`, `total_results`) in the answer.
    #[default]
    LimitOffset,
    /// dynamic-rest's `DynamicPageNumberPagination`: `page` (from 1) and
    /// `per_page` in the query, `limit` / `offset` ignored; the answer has
    /// the records and `meta` (`page`, `per_page`, `total_results`,
    /// `total_pages`, or `more_pages` when counting is off), nothing else.
    PageNumber,
}

impl FromStr for Pagination {
    type Err = String;

    /// `limit-offset` (or `offset`) and `page-number` (or `pages`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "limit-offset" | "offset" => Ok(Pagination::LimitOffset),
            "page-number" | "pages" => Ok(Pagination::PageNumber),
            other => Err(format!(
                "unknown pagination {other:?} (expected limit-offset or page-number)"
            )),
        }
    }
}

impl fmt::Display for Pagination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Pagination::LimitOffset => "limit-offset",
            Pagination::PageNumber => "page-number",
        })
    }
}

/// The names [`Dialect`]'s `FromStr` accepts, in the order of the presets.
pub const DIALECT_NAMES: &[&str] = &["docs", "dynamic-rest", "dynamic-rest-countless", "drifted"];

/// How the stand-in server shapes its answers.
///
/// The real BrainSTEM server is Django REST framework with dynamic-rest,
/// and it does not always answer the way its documentation shows. A
/// `Dialect` picks, switch by switch, which of those behaviours the server
/// shows, so a client can be tested against each. Start from a preset and
/// change single switches with the builder methods:
///
/// ```
/// use brainstem_mock::{Dialect, Pagination};
/// let d = Dialect::dynamic_rest().page_size(50).sideloading(false);
/// assert_eq!(d.pagination, Pagination::PageNumber);
/// assert_eq!(d.default_page_size, 50);
/// ```
///
/// Field names in [`Dialect::deferred_fields`] and
/// [`Dialect::missing_fields`] are `model.field`, the model spelled as
/// `app/model`, the model name or its URL segment (`session.description`,
/// `stem/session.description`). Names that match no model or field are
/// ignored by a running server; [`Dialect::check`] reports them (and
/// [`MockServer::start_with`](super::MockServer::start_with) refuses them).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Dialect {
    /// How lists are paged.
    pub pagination: Pagination,
    /// [`Pagination::PageNumber`] only: answer every list as if the request
    /// had `exclude_count` (no totals, `more_pages` instead).
    pub force_exclude_count: bool,
    /// Records on a page when the request names no size (`limit`, or
    /// `per_page`). BrainSTEM documents 20.
    pub default_page_size: usize,
    /// The largest page; a bigger request is cut to it (`None`: no cap,
    /// dynamic-rest's own default). BrainSTEM documents 100.
    pub max_page_size: Option<usize>,
    /// Sideload included relations (`include[]=rel.*`) as top-level lists
    /// keyed by the related model's plural name, instead of embedding them.
    /// The request's `sideloading` parameter overrides it either way.
    pub sideloading: bool,
    /// Build `links` the way dynamic-rest does: no link for a relation
    /// shown empty or included in the answer, and no `links` key at all
    /// when no link is left (the documented shape lists every relation
    /// route on every record).
    pub omit_empty_links: bool,
    /// Fields left out of read answers unless the request names them with
    /// `include[]=field` (dynamic-rest's deferred fields), as `model.field`.
    pub deferred_fields: Vec<String>,
    /// Every n-th record of each model (by creation order; 0: none) carries
    /// an undocumented field, `"x_server_note": {"n": 12, "big": 1e400,
    /// "tags": ["a"]}`, whose number does not fit an `f64`.
    pub extra_field_every: usize,
    /// Every n-th record (by creation order; 0: none) of the models named
    /// in [`Dialect::missing_fields`] lacks those fields.
    pub missing_field_every: usize,
    /// The documented fields that drifted records lack, as `model.field`.
    pub missing_fields: Vec<String>,
    /// A fault, in no preset: a successful create, `PUT` or `PATCH` stores
    /// the record and answers with the right status, but with a body a
    /// typed client cannot decode: the record under its envelope key with
    /// its `id` as stored and every other string value replaced by the
    /// number `12345`.
    pub undecodable_writes: bool,
}

impl Default for Dialect {
    fn default() -> Self {
        Dialect::docs()
    }
}

impl Dialect {
    /// The documented shape (the default): limit / offset pagination with
    /// `count`, `next`, `previous` and `meta`; included relations embedded;
    /// every record complete.
    pub fn docs() -> Dialect {
        Dialect {
            pagination: Pagination::LimitOffset,
            force_exclude_count: false,
            default_page_size: 20,
            max_page_size: Some(100),
            sideloading: false,
            omit_empty_links: false,
            deferred_fields: Vec::new(),
            extra_field_every: 0,
            missing_field_every: 0,
            missing_fields: Vec::new(),
            undecodable_writes: false,
        }
    }

    /// What a dynamic-rest server sends: page-number pagination, sideloaded
    /// includes, `links` only where there is a link, and `session.description`
    /// deferred (absent unless `include[]=description`).
    pub fn dynamic_rest() -> Dialect {
        Dialect {
            pagination: Pagination::PageNumber,
            sideloading: true,
            omit_empty_links: true,
            deferred_fields: vec!["session.description".to_string()],
            ..Dialect::docs()
        }
    }

    /// [`Dialect::dynamic_rest`] with counting off for every list, as if
    /// each request had `exclude_count`.
    pub fn dynamic_rest_countless() -> Dialect {
        Dialect {
            force_exclude_count: true,
            ..Dialect::dynamic_rest()
        }
    }

    /// The documented pagination, with records that drifted from the
    /// documentation: every third record of each model has an undocumented
    /// `x_server_note` field, every fifth session has no `description`.
    pub fn drifted() -> Dialect {
        Dialect {
            extra_field_every: 3,
            missing_field_every: 5,
            missing_fields: vec!["session.description".to_string()],
            ..Dialect::docs()
        }
    }

    /// Set the pagination style.
    pub fn pagination(mut self, p: Pagination) -> Self {
        self.pagination = p;
        self
    }

    /// Page-number lists never count (see [`Dialect::force_exclude_count`]).
    pub fn force_exclude_count(mut self, yes: bool) -> Self {
        self.force_exclude_count = yes;
        self
    }

    /// The page size when the request names none (values below 1 count as 1).
    pub fn page_size(mut self, n: usize) -> Self {
        self.default_page_size = n.max(1);
        self
    }

    /// The largest page (`None`: no cap; values below 1 count as 1).
    pub fn max_page_size(mut self, n: Option<usize>) -> Self {
        self.max_page_size = n.map(|n| n.max(1));
        self
    }

    /// Sideload included relations (`true`) or embed them (`false`).
    pub fn sideloading(mut self, yes: bool) -> Self {
        self.sideloading = yes;
        self
    }

    /// dynamic-rest's `links` (see [`Dialect::omit_empty_links`]).
    pub fn omit_empty_links(mut self, yes: bool) -> Self {
        self.omit_empty_links = yes;
        self
    }

    /// Replace the deferred fields (`model.field` each).
    pub fn deferred_fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.deferred_fields = fields.into_iter().map(Into::into).collect();
        self
    }

    /// Give every n-th record the undocumented `x_server_note` field (0: none).
    pub fn extra_field_every(mut self, n: usize) -> Self {
        self.extra_field_every = n;
        self
    }

    /// Leave [`Dialect::missing_fields`] out of every n-th record (0: none).
    pub fn missing_field_every(mut self, n: usize) -> Self {
        self.missing_field_every = n;
        self
    }

    /// Replace the fields drifted records lack (`model.field` each).
    pub fn missing_fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.missing_fields = fields.into_iter().map(Into::into).collect();
        self
    }

    /// Answer successful writes with an undecodable body (see
    /// [`Dialect::undecodable_writes`]).
    pub fn undecodable_writes(mut self, yes: bool) -> Self {
        self.undecodable_writes = yes;
        self
    }

    /// Report field names that match no model or field of the spec.
    pub fn check(&self) -> Result<(), String> {
        let bad: Vec<&String> = self
            .deferred_fields
            .iter()
            .chain(&self.missing_fields)
            .filter(|n| resolve_field(n).is_none())
            .collect();
        if bad.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "no such model field: {} (write model.field, e.g. session.description)",
                bad.iter()
                    .map(|s| format!("{s:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
    }
}

impl FromStr for Dialect {
    type Err = String;

    /// A preset by name: `docs`, `dynamic-rest`, `dynamic-rest-countless`
    /// or `drifted`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "docs" => Ok(Dialect::docs()),
            "dynamic-rest" => Ok(Dialect::dynamic_rest()),
            "dynamic-rest-countless" => Ok(Dialect::dynamic_rest_countless()),
            "drifted" => Ok(Dialect::drifted()),
            other => Err(format!(
                "unknown dialect {other:?} (expected one of {})",
                DIALECT_NAMES.join(", ")
            )),
        }
    }
}

/// Find an entity by `app/model`, URL segment or model name.
pub(crate) fn entity(model: &str) -> Option<EntityId> {
    let c = catalog();
    c.by_key(model).or_else(|| {
        c.entities.iter().position(|e| {
            e.segments.iter().any(|s| s == model) || e.key.ends_with(&format!("/{model}"))
        })
    })
}

/// `model.field` as (entity, field name), when both exist.
fn resolve_field(name: &str) -> Option<(EntityId, String)> {
    let (model, field) = name.rsplit_once('.')?;
    let e = entity(model)?;
    catalog().get(e).field(field)?;
    Some((e, field.to_string()))
}

/// A dialect with its field names resolved to entities.
#[derive(Debug, Clone, Default)]
pub(crate) struct Resolved {
    pub dialect: Dialect,
    pub deferred: HashMap<EntityId, Vec<String>>,
    pub missing: HashMap<EntityId, Vec<String>>,
}

impl Resolved {
    /// Resolve the names of a dialect (unknown ones are dropped).
    pub fn new(dialect: Dialect) -> Resolved {
        let mut deferred: HashMap<EntityId, Vec<String>> = HashMap::new();
        for (e, f) in dialect
            .deferred_fields
            .iter()
            .filter_map(|n| resolve_field(n))
        {
            deferred.entry(e).or_default().push(f);
        }
        let mut missing: HashMap<EntityId, Vec<String>> = HashMap::new();
        for (e, f) in dialect
            .missing_fields
            .iter()
            .filter_map(|n| resolve_field(n))
        {
            missing.entry(e).or_default().push(f);
        }
        Resolved {
            dialect,
            deferred,
            missing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_by_name() {
        for name in DIALECT_NAMES {
            let d: Dialect = name.parse().expect("a preset");
            assert!(d.check().is_ok(), "{name}");
        }
        assert_eq!("docs".parse::<Dialect>(), Ok(Dialect::default()));
        assert!("nope".parse::<Dialect>().is_err());
        assert_eq!("pages".parse(), Ok(Pagination::PageNumber));
        assert_eq!(
            Pagination::PageNumber.to_string().parse(),
            Ok(Pagination::PageNumber)
        );
    }

    #[test]
    fn field_names_resolve() {
        let d = Dialect::docs().deferred_fields(["stem/session.description", "behavior.notes"]);
        assert!(d.check().is_ok());
        let r = Resolved::new(d);
        assert_eq!(r.deferred.len(), 2);
        let bad = Dialect::docs().missing_fields(["session.nope", "nomodel.name"]);
        let err = bad.check().unwrap_err();
        assert!(
            err.contains("session.nope") && err.contains("nomodel.name"),
            "{err}"
        );
        assert!(Resolved::new(bad).missing.is_empty());
    }
}
