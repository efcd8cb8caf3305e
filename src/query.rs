//! dynamic-rest queries: filters, sorting, includes and paging, as data.
//!
//! Every model has generated enums (`SessionFilter`, `SessionSort`,
//! `SessionInclude`) whose values encode to the exact query pairs the
//! BrainSTEM server understands:
//!
//! ```
//! use brainstem::query::{Filter, IncludeField, ListQuery, SortField};
//! use brainstem::models::{SessionFilter, SessionInclude, SessionSort};
//!
//! let q = ListQuery::new()
//!     .filter(SessionFilter::NameIcontains("rat".into()))
//!     .sort(SessionSort::Name.desc())
//!     .include(SessionInclude::Projects)
//!     .limit(10);
//! assert_eq!(
//!     q.to_query_string(),
//!     "filter%7Bname.icontains%7D=rat&sort%5B%5D=-name&include%5B%5D=projects.%2A&limit=10"
//! );
//! ```
//!
//! Values are typed, so a wrong one does not compile:
//!
//! ```compile_fail
//! use brainstem::models::SessionFilter;
//! let f = SessionFilter::DateTimeGte("yesterday"); // needs a DateTime<Utc>
//! ```
//!
//! ```compile_fail
//! use brainstem::models::SessionFilter;
//! let f = SessionFilter::Projects("abc".to_string()); // needs a Uuid
//! ```
//!
//! A lookup a field does not have is not a variant:
//!
//! ```compile_fail
//! use brainstem::models::ProjectFilter;
//! let f = ProjectFilter::IsPublicIcontains("yes".to_string());
//! ```

use std::fmt::Write as _;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::error::InvalidInput;

/// A value as it appears in a query string.
pub trait QueryValue {
    /// The query-string form of the value (before percent-encoding).
    fn query_value(&self) -> String;
}

impl QueryValue for String {
    fn query_value(&self) -> String {
        self.clone()
    }
}

impl QueryValue for &str {
    fn query_value(&self) -> String {
        (*self).to_string()
    }
}

impl QueryValue for uuid::Uuid {
    fn query_value(&self) -> String {
        self.to_string()
    }
}

impl QueryValue for i64 {
    fn query_value(&self) -> String {
        self.to_string()
    }
}

impl QueryValue for f64 {
    fn query_value(&self) -> String {
        self.to_string()
    }
}

impl QueryValue for bool {
    fn query_value(&self) -> String {
        if *self { "true" } else { "false" }.to_string()
    }
}

impl QueryValue for chrono::NaiveDate {
    fn query_value(&self) -> String {
        self.format("%Y-%m-%d").to_string()
    }
}

impl QueryValue for chrono::DateTime<chrono::Utc> {
    fn query_value(&self) -> String {
        self.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    }
}

/// One filter, ready to encode: `filter{[-]field[.lookup]}=value` (repeated
/// for each value of `in` and `range`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterClause {
    /// Field path (`name`, `projects`, or a dotted path for raw filters).
    pub field: String,
    /// Lookup (`icontains`, `in`, ...); `None` is the exact match.
    pub lookup: Option<String>,
    /// The values (one, or several for `in` / two for `range`).
    pub values: Vec<String>,
    /// `filter{-field}`: exclude the matches.
    pub negated: bool,
}

impl FilterClause {
    /// A clause for a field and lookup.
    pub fn new(field: &str, lookup: Option<&str>, values: Vec<String>) -> Self {
        FilterClause {
            field: field.to_string(),
            lookup: lookup.map(str::to_string),
            values,
            negated: false,
        }
    }

    /// The same clause, negated (or un-negated).
    pub fn negate(mut self) -> Self {
        self.negated = !self.negated;
        self
    }

    /// The query key: `filter{-projects}`, `filter{name.icontains}`.
    pub fn key(&self) -> String {
        let mut k = String::from("filter{");
        if self.negated {
            k.push('-');
        }
        k.push_str(&self.field);
        if let Some(l) = &self.lookup {
            k.push('.');
            k.push_str(l);
        }
        k.push('}');
        k
    }

    /// The query pairs, one per value.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let key = self.key();
        self.values
            .iter()
            .map(|v| (key.clone(), v.clone()))
            .collect()
    }
}

/// A typed filter of one model (the generated `<Model>Filter` enums).
pub trait Filter {
    /// The clause this filter encodes to.
    fn clause(&self) -> FilterClause;

    /// The negated clause: `filter{-field...}`.
    fn not(&self) -> FilterClause {
        self.clause().negate()
    }
}

impl Filter for FilterClause {
    fn clause(&self) -> FilterClause {
        self.clone()
    }
}

/// The escape hatch for filters the enums do not cover, such as lookups
/// through a relation (`projects.name.icontains`).
///
/// The key is checked for shape (dotted identifiers, an optional known
/// lookup) but not against the model: the server answers 400 for a field it
/// does not know.
///
/// ```
/// use brainstem::query::{Filter, RawFilter};
/// let f = RawFilter::new("projects.name.icontains", "visual").unwrap();
/// assert_eq!(f.clause().key(), "filter{projects.name.icontains}");
/// assert!(RawFilter::new("name}", "x").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawFilter(FilterClause);

/// The lookups dynamic-rest accepts at the end of a filter path.
pub const LOOKUPS: &[&str] = &[
    "iexact",
    "contains",
    "icontains",
    "startswith",
    "istartswith",
    "endswith",
    "iendswith",
    "in",
    "isnull",
    "gt",
    "gte",
    "lt",
    "lte",
    "range",
    "exact",
    "year",
    "month",
    "day",
    "regex",
    "iregex",
];

fn is_ident(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

impl RawFilter {
    /// A filter on a dotted path (`projects.name.icontains`), with one value.
    pub fn new(path: &str, value: impl Into<String>) -> Result<Self, InvalidInput> {
        Self::many(path, vec![value.into()])
    }

    /// A filter with several values (`in`, `range`).
    pub fn many(path: &str, values: Vec<String>) -> Result<Self, InvalidInput> {
        let path = path.strip_prefix('-').unwrap_or(path);
        let parts: Vec<&str> = path.split('.').collect();
        if parts.iter().any(|p| !is_ident(p)) {
            return Err(InvalidInput::one(
                "filter",
                format!(
                    "{path:?} is not a filter path: use field names joined by dots, optionally ending in a lookup ({})",
                    LOOKUPS.join(", ")
                ),
            ));
        }
        if values.is_empty() {
            return Err(InvalidInput::one(
                "filter",
                format!("filter {path:?} needs at least one value"),
            ));
        }
        let (field, lookup) = match parts.split_last() {
            Some((last, rest)) if !rest.is_empty() && LOOKUPS.contains(last) => {
                (rest.join("."), Some(last.to_string()))
            }
            _ => (path.to_string(), None),
        };
        Ok(RawFilter(FilterClause {
            field,
            lookup,
            values,
            negated: false,
        }))
    }
}

impl Filter for RawFilter {
    fn clause(&self) -> FilterClause {
        self.0.clone()
    }
}

/// A sortable field of one model (the generated `<Model>Sort` enums).
pub trait SortField {
    /// The JSON field name.
    fn field(&self) -> &'static str;

    /// Ascending order.
    fn asc(&self) -> SortKey {
        SortKey {
            field: self.field().to_string(),
            descending: false,
        }
    }

    /// Descending order (`sort[]=-field`).
    fn desc(&self) -> SortKey {
        SortKey {
            field: self.field().to_string(),
            descending: true,
        }
    }
}

/// One `sort[]` entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SortKey {
    /// Field name.
    pub field: String,
    /// Descending order.
    pub descending: bool,
}

impl SortKey {
    /// The query value (`-name`).
    pub fn value(&self) -> String {
        if self.descending {
            format!("-{}", self.field)
        } else {
            self.field.clone()
        }
    }
}

/// An includable relation of one model (the generated `<Model>Include` enums).
pub trait IncludeField {
    /// The JSON field name of the relation.
    fn field(&self) -> &'static str;
}

/// A list request, as data: filters (ANDed), sort keys, includes, paging.
///
/// Encodes to the query string the official Python client sends.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListQuery {
    /// Filters; all must match.
    pub filters: Vec<FilterClause>,
    /// Sort keys, most significant first.
    pub sort: Vec<SortKey>,
    /// Relations to embed.
    pub include: Vec<String>,
    /// Page size (the server caps it at 100).
    pub limit: Option<u32>,
    /// Records to skip.
    pub offset: Option<u64>,
}

/// The largest page the server returns.
pub const MAX_LIMIT: u32 = 100;

/// Characters Python's `urlencode` (`quote_plus`) leaves as they are.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~')
    .remove(b' ');

/// Percent-encode a query component the way Python `requests` does
/// (`{` -> `%7B`, `*` -> `%2A`, space -> `+`).
pub fn encode_component(s: &str) -> String {
    utf8_percent_encode(s, QUERY).to_string().replace(' ', "+")
}

impl ListQuery {
    /// An empty query.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a filter.
    pub fn filter(mut self, f: impl Filter) -> Self {
        self.filters.push(f.clause());
        self
    }

    /// Add a negated filter (`filter{-field}`).
    pub fn exclude(mut self, f: impl Filter) -> Self {
        self.filters.push(f.not());
        self
    }

    /// Add a sort key.
    pub fn sort(mut self, key: SortKey) -> Self {
        self.sort.push(key);
        self
    }

    /// Embed a relation.
    pub fn include(mut self, rel: impl IncludeField) -> Self {
        self.include.push(rel.field().to_string());
        self
    }

    /// Page size.
    pub fn limit(mut self, n: u32) -> Self {
        self.limit = Some(n);
        self
    }

    /// Records to skip.
    pub fn offset(mut self, n: u64) -> Self {
        self.offset = Some(n);
        self
    }

    /// Check what can be checked before sending: the page size.
    pub fn check(&self) -> Result<(), InvalidInput> {
        match self.limit {
            Some(0) => Err(InvalidInput::one("limit", "must be at least 1")),
            Some(n) if n > MAX_LIMIT => Err(InvalidInput::one(
                "limit",
                format!("{n} is more than the server's maximum page size of {MAX_LIMIT}"),
            )),
            _ => Ok(()),
        }
    }

    /// The query pairs, in order: filters, sort, include, limit, offset.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for f in &self.filters {
            out.extend(f.pairs());
        }
        for s in &self.sort {
            out.push(("sort[]".to_string(), s.value()));
        }
        for i in &self.include {
            out.push(("include[]".to_string(), format!("{i}.*")));
        }
        if let Some(l) = self.limit {
            out.push(("limit".to_string(), l.to_string()));
        }
        if let Some(o) = self.offset {
            out.push(("offset".to_string(), o.to_string()));
        }
        out
    }

    /// The percent-encoded query string (without `?`).
    pub fn to_query_string(&self) -> String {
        let mut s = String::new();
        for (i, (k, v)) in self.pairs().iter().enumerate() {
            if i > 0 {
                s.push('&');
            }
            let _ = write!(s, "{}={}", encode_component(k), encode_component(v));
        }
        s
    }
}

/// A sort or include name the model does not have (from `FromStr` on the
/// generated `<Model>Sort` / `<Model>Include` enums).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownField {
    /// The name given.
    pub name: String,
    /// The names the model accepts.
    pub valid: &'static [&'static str],
}

impl UnknownField {
    /// An unknown name and the valid ones.
    pub fn new(name: &str, valid: &'static [&'static str]) -> Self {
        UnknownField {
            name: name.to_string(),
            valid,
        }
    }
}

impl std::fmt::Display for UnknownField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.valid.is_empty() {
            write!(
                f,
                "{:?} is not valid here (there is nothing to choose from)",
                self.name
            )
        } else {
            write!(
                f,
                "{:?} is not one of: {}",
                self.name,
                self.valid.join(", ")
            )
        }
    }
}

impl std::error::Error for UnknownField {}

/// Define an enum of field names (the generated `<Model>Sort` and
/// `<Model>Include`): each variant names one JSON field.
#[doc(hidden)]
#[macro_export]
macro_rules! field_enum {
    ($(#[$meta:meta])* $name:ident : $trait_name:ident { $( $(#[$vmeta:meta])* $variant:ident => $field:literal ),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
        }

        impl $crate::query::$trait_name for $name {
            fn field(&self) -> &'static str {
                match *self {
                    $(Self::$variant => $field,)*
                }
            }
        }

        impl ::core::str::FromStr for $name {
            type Err = $crate::query::UnknownField;
            fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
                match s {
                    $($field => ::core::result::Result::Ok(Self::$variant),)*
                    _ => ::core::result::Result::Err($crate::query::UnknownField::new(s, &[$($field),*])),
                }
            }
        }
    };
}
