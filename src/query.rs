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
//!
//! rustc then suggests some similarly named variant; the field markers
//! (`brainstem::models::<model>::<Field>`, with [`Lookups`]) say what is
//! wrong instead: "the field `IsPublic` has no `icontains` filter lookup".
//!
//! ```compile_fail,E0277
//! use brainstem::models::project;
//! use brainstem::query::Lookups;
//! let f = project::IsPublic.icontains("yes".to_string());
//! ```
//!
//! ```
//! use brainstem::models::{SessionFilter, session};
//! use brainstem::query::Lookups;
//! assert_eq!(session::Name.icontains("rat"), SessionFilter::NameIcontains("rat".into()));
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

    /// A clause whose values are `values` in their query-string form (the
    /// generated filter enums build their clauses with it).
    #[doc(hidden)]
    pub fn of<'a, T: QueryValue + ?Sized + 'a>(
        field: &str,
        lookup: Option<&str>,
        values: impl IntoIterator<Item = &'a T>,
    ) -> Self {
        Self::new(
            field,
            lookup,
            values.into_iter().map(QueryValue::query_value).collect(),
        )
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

/// A field of one model as a typed filter builder: the generated unit
/// structs in `brainstem::models::<model>` (`session::Name`). The lookups
/// it has are the [`lookup`] traits it implements; [`Lookups`] turns them
/// into the model's filter enum.
pub trait FilterField: Copy {
    /// The type of a value of the field in a filter.
    type Value;
    /// The model's filter enum (`SessionFilter`).
    type Filter: Filter;
    /// The JSON field name.
    const NAME: &'static str;
}

/// One trait per dynamic-rest lookup; a field implements those it has.
///
/// A lookup the field lacks is a compile error that names the field and the
/// lookup (rustc: "the field `IsPublic` has no `icontains` filter lookup"),
/// not a suggestion of another field's filter:
///
/// ```compile_fail,E0277
/// use brainstem::models::project;
/// use brainstem::query::Lookups;
/// let f = project::IsPublic.icontains("yes".to_string());
/// ```
///
/// The same field with a lookup it has:
///
/// ```
/// use brainstem::models::{ProjectFilter, project};
/// use brainstem::query::Lookups;
/// assert_eq!(project::IsPublic.exact(true), ProjectFilter::IsPublic(true));
/// ```
pub mod lookup {
    use super::FilterField;

    /// `filter{field}`: equal to the value.
    #[diagnostic::on_unimplemented(
        message = "the field `{Self}` has no `exact` filter lookup",
        label = "`{Self}` cannot be filtered with `exact`",
        note = "a field's lookups are listed on its marker type (`brainstem::models::<model>::<Field>`) and in `FieldMeta::lookups`"
    )]
    pub trait Exact: FilterField {
        /// The model's filter for this field and lookup.
        fn build(v: Self::Value) -> Self::Filter;
    }

    /// `filter{field.iexact}`: equal, ignoring case.
    #[diagnostic::on_unimplemented(
        message = "the field `{Self}` has no `iexact` filter lookup",
        label = "`{Self}` cannot be filtered with `iexact`",
        note = "a field's lookups are listed on its marker type (`brainstem::models::<model>::<Field>`) and in `FieldMeta::lookups`"
    )]
    pub trait Iexact: FilterField {
        /// The model's filter for this field and lookup.
        fn build(v: Self::Value) -> Self::Filter;
    }

    /// `filter{field.contains}`: contains the text.
    #[diagnostic::on_unimplemented(
        message = "the field `{Self}` has no `contains` filter lookup",
        label = "`{Self}` cannot be filtered with `contains`",
        note = "a field's lookups are listed on its marker type (`brainstem::models::<model>::<Field>`) and in `FieldMeta::lookups`"
    )]
    pub trait Contains: FilterField {
        /// The model's filter for this field and lookup.
        fn build(v: Self::Value) -> Self::Filter;
    }

    /// `filter{field.icontains}`: contains the text, ignoring case.
    #[diagnostic::on_unimplemented(
        message = "the field `{Self}` has no `icontains` filter lookup",
        label = "`{Self}` cannot be filtered with `icontains`",
        note = "a field's lookups are listed on its marker type (`brainstem::models::<model>::<Field>`) and in `FieldMeta::lookups`"
    )]
    pub trait Icontains: FilterField {
        /// The model's filter for this field and lookup.
        fn build(v: Self::Value) -> Self::Filter;
    }

    /// `filter{field.startswith}`: starts with the text.
    #[diagnostic::on_unimplemented(
        message = "the field `{Self}` has no `startswith` filter lookup",
        label = "`{Self}` cannot be filtered with `startswith`",
        note = "a field's lookups are listed on its marker type (`brainstem::models::<model>::<Field>`) and in `FieldMeta::lookups`"
    )]
    pub trait Startswith: FilterField {
        /// The model's filter for this field and lookup.
        fn build(v: Self::Value) -> Self::Filter;
    }

    /// `filter{field.istartswith}`: starts with the text, ignoring case.
    #[diagnostic::on_unimplemented(
        message = "the field `{Self}` has no `istartswith` filter lookup",
        label = "`{Self}` cannot be filtered with `istartswith`",
        note = "a field's lookups are listed on its marker type (`brainstem::models::<model>::<Field>`) and in `FieldMeta::lookups`"
    )]
    pub trait Istartswith: FilterField {
        /// The model's filter for this field and lookup.
        fn build(v: Self::Value) -> Self::Filter;
    }

    /// `filter{field.endswith}`: ends with the text.
    #[diagnostic::on_unimplemented(
        message = "the field `{Self}` has no `endswith` filter lookup",
        label = "`{Self}` cannot be filtered with `endswith`",
        note = "a field's lookups are listed on its marker type (`brainstem::models::<model>::<Field>`) and in `FieldMeta::lookups`"
    )]
    pub trait Endswith: FilterField {
        /// The model's filter for this field and lookup.
        fn build(v: Self::Value) -> Self::Filter;
    }

    /// `filter{field.iendswith}`: ends with the text, ignoring case.
    #[diagnostic::on_unimplemented(
        message = "the field `{Self}` has no `iendswith` filter lookup",
        label = "`{Self}` cannot be filtered with `iendswith`",
        note = "a field's lookups are listed on its marker type (`brainstem::models::<model>::<Field>`) and in `FieldMeta::lookups`"
    )]
    pub trait Iendswith: FilterField {
        /// The model's filter for this field and lookup.
        fn build(v: Self::Value) -> Self::Filter;
    }

    /// `filter{field.in}`: one of the values.
    #[diagnostic::on_unimplemented(
        message = "the field `{Self}` has no `in` filter lookup",
        label = "`{Self}` cannot be filtered with `in`",
        note = "a field's lookups are listed on its marker type (`brainstem::models::<model>::<Field>`) and in `FieldMeta::lookups`"
    )]
    pub trait In: FilterField {
        /// The model's filter for this field and lookup.
        fn build(v: Vec<Self::Value>) -> Self::Filter;
    }

    /// `filter{field.isnull}`: null (or not).
    #[diagnostic::on_unimplemented(
        message = "the field `{Self}` has no `isnull` filter lookup",
        label = "`{Self}` cannot be filtered with `isnull`",
        note = "a field's lookups are listed on its marker type (`brainstem::models::<model>::<Field>`) and in `FieldMeta::lookups`"
    )]
    pub trait Isnull: FilterField {
        /// The model's filter for this field and lookup.
        fn build(v: bool) -> Self::Filter;
    }

    /// `filter{field.gt}`: greater than the value.
    #[diagnostic::on_unimplemented(
        message = "the field `{Self}` has no `gt` filter lookup",
        label = "`{Self}` cannot be filtered with `gt`",
        note = "a field's lookups are listed on its marker type (`brainstem::models::<model>::<Field>`) and in `FieldMeta::lookups`"
    )]
    pub trait Gt: FilterField {
        /// The model's filter for this field and lookup.
        fn build(v: Self::Value) -> Self::Filter;
    }

    /// `filter{field.gte}`: at least the value.
    #[diagnostic::on_unimplemented(
        message = "the field `{Self}` has no `gte` filter lookup",
        label = "`{Self}` cannot be filtered with `gte`",
        note = "a field's lookups are listed on its marker type (`brainstem::models::<model>::<Field>`) and in `FieldMeta::lookups`"
    )]
    pub trait Gte: FilterField {
        /// The model's filter for this field and lookup.
        fn build(v: Self::Value) -> Self::Filter;
    }

    /// `filter{field.lt}`: less than the value.
    #[diagnostic::on_unimplemented(
        message = "the field `{Self}` has no `lt` filter lookup",
        label = "`{Self}` cannot be filtered with `lt`",
        note = "a field's lookups are listed on its marker type (`brainstem::models::<model>::<Field>`) and in `FieldMeta::lookups`"
    )]
    pub trait Lt: FilterField {
        /// The model's filter for this field and lookup.
        fn build(v: Self::Value) -> Self::Filter;
    }

    /// `filter{field.lte}`: at most the value.
    #[diagnostic::on_unimplemented(
        message = "the field `{Self}` has no `lte` filter lookup",
        label = "`{Self}` cannot be filtered with `lte`",
        note = "a field's lookups are listed on its marker type (`brainstem::models::<model>::<Field>`) and in `FieldMeta::lookups`"
    )]
    pub trait Lte: FilterField {
        /// The model's filter for this field and lookup.
        fn build(v: Self::Value) -> Self::Filter;
    }

    /// `filter{field.range}`: between the two values, both included.
    #[diagnostic::on_unimplemented(
        message = "the field `{Self}` has no `range` filter lookup",
        label = "`{Self}` cannot be filtered with `range`",
        note = "a field's lookups are listed on its marker type (`brainstem::models::<model>::<Field>`) and in `FieldMeta::lookups`"
    )]
    pub trait Range: FilterField {
        /// The model's filter for this field and lookup.
        fn build(a: Self::Value, b: Self::Value) -> Self::Filter;
    }
}

/// The typed filter builders every field marker has; each needs the field
/// to have the lookup ([`lookup`]), and builds the model's filter enum.
///
/// ```
/// use brainstem::models::{SessionFilter, session};
/// use brainstem::query::{Filter, Lookups};
/// let f = session::Name.icontains("rat");
/// assert_eq!(f, SessionFilter::NameIcontains("rat".into()));
/// assert_eq!(f.clause().key(), "filter{name.icontains}");
/// let p = uuid::Uuid::nil();
/// assert_eq!(session::Projects.is_in([p]), SessionFilter::ProjectsIn(vec![p]));
/// ```
///
/// Values are typed (a date-time filter takes a `DateTime<Utc>`):
///
/// ```compile_fail,E0277
/// use brainstem::models::session;
/// use brainstem::query::Lookups;
/// let f = session::DateTime.gte("yesterday");
/// ```
pub trait Lookups: FilterField {
    /// Equal to the value (`filter{field}`).
    fn exact(self, value: impl Into<Self::Value>) -> Self::Filter
    where
        Self: lookup::Exact,
    {
        <Self as lookup::Exact>::build(value.into())
    }

    /// Equal, ignoring case.
    fn iexact(self, value: impl Into<Self::Value>) -> Self::Filter
    where
        Self: lookup::Iexact,
    {
        <Self as lookup::Iexact>::build(value.into())
    }

    /// Contains the text.
    fn contains(self, value: impl Into<Self::Value>) -> Self::Filter
    where
        Self: lookup::Contains,
    {
        <Self as lookup::Contains>::build(value.into())
    }

    /// Contains the text, ignoring case.
    fn icontains(self, value: impl Into<Self::Value>) -> Self::Filter
    where
        Self: lookup::Icontains,
    {
        <Self as lookup::Icontains>::build(value.into())
    }

    /// Starts with the text.
    fn startswith(self, value: impl Into<Self::Value>) -> Self::Filter
    where
        Self: lookup::Startswith,
    {
        <Self as lookup::Startswith>::build(value.into())
    }

    /// Starts with the text, ignoring case.
    fn istartswith(self, value: impl Into<Self::Value>) -> Self::Filter
    where
        Self: lookup::Istartswith,
    {
        <Self as lookup::Istartswith>::build(value.into())
    }

    /// Ends with the text.
    fn endswith(self, value: impl Into<Self::Value>) -> Self::Filter
    where
        Self: lookup::Endswith,
    {
        <Self as lookup::Endswith>::build(value.into())
    }

    /// Ends with the text, ignoring case.
    fn iendswith(self, value: impl Into<Self::Value>) -> Self::Filter
    where
        Self: lookup::Iendswith,
    {
        <Self as lookup::Iendswith>::build(value.into())
    }

    /// Greater than the value.
    fn gt(self, value: impl Into<Self::Value>) -> Self::Filter
    where
        Self: lookup::Gt,
    {
        <Self as lookup::Gt>::build(value.into())
    }

    /// At least the value.
    fn gte(self, value: impl Into<Self::Value>) -> Self::Filter
    where
        Self: lookup::Gte,
    {
        <Self as lookup::Gte>::build(value.into())
    }

    /// Less than the value.
    fn lt(self, value: impl Into<Self::Value>) -> Self::Filter
    where
        Self: lookup::Lt,
    {
        <Self as lookup::Lt>::build(value.into())
    }

    /// At most the value.
    fn lte(self, value: impl Into<Self::Value>) -> Self::Filter
    where
        Self: lookup::Lte,
    {
        <Self as lookup::Lte>::build(value.into())
    }

    /// One of the values (`filter{field.in}`).
    fn is_in<V: Into<Self::Value>>(self, values: impl IntoIterator<Item = V>) -> Self::Filter
    where
        Self: lookup::In,
    {
        <Self as lookup::In>::build(values.into_iter().map(Into::into).collect())
    }

    /// Null (`true`) or not null (`false`).
    fn isnull(self, null: bool) -> Self::Filter
    where
        Self: lookup::Isnull,
    {
        <Self as lookup::Isnull>::build(null)
    }

    /// Between `low` and `high`, both included.
    fn range(self, low: impl Into<Self::Value>, high: impl Into<Self::Value>) -> Self::Filter
    where
        Self: lookup::Range,
    {
        <Self as lookup::Range>::build(low.into(), high.into())
    }
}

impl<F: FilterField> Lookups for F {}

/// A filter on a dotted path, for what the typed filters cannot express:
/// lookups through a relation (`projects.name.icontains`).
///
/// The key is checked for shape here (dotted identifiers, an optional known
/// lookup, a leading `-` negates). It belongs to no model: a list request
/// takes it only through
/// [`filter_unchecked`](crate::client::ListRequest::filter_unchecked), which
/// checks every step of the path and the lookup against the model's
/// metadata and reports a wrong one, naming it, when the request is sent.
///
/// ```
/// use brainstem::query::{Filter, RawFilter};
/// let f = RawFilter::new("projects.name.icontains", "visual").unwrap();
/// assert_eq!(f.clause().key(), "filter{projects.name.icontains}");
/// assert_eq!(RawFilter::new("-name", "x").unwrap().clause().key(), "filter{-name}");
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
        let negated = path.starts_with('-');
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
            negated,
        }))
    }
}

/// Check a filter clause against a model's fields: every step of a dotted
/// path but the last must be a relation to a known model, the last a field
/// of the model reached, and the lookup one that field has. The error names
/// the step that is wrong.
#[cfg(feature = "client")]
pub(crate) fn check_clause(
    model: &'static str,
    fields: &'static [crate::meta::FieldMeta],
    clause: &FilterClause,
) -> Result<(), String> {
    let steps: Vec<&str> = clause.field.split('.').collect();
    let (mut name, mut fields) = (model, fields);
    for (i, step) in steps.iter().enumerate() {
        let f = fields
            .iter()
            .find(|f| f.name == *step)
            .ok_or_else(|| format!("`{step}` is not a field of `{name}`"))?;
        let Some(next) = steps.get(i + 1) else {
            let lookup = match clause.lookup.as_deref() {
                None | Some("exact") => "",
                Some(l) => l,
            };
            if f.lookups.contains(&lookup) {
                return Ok(());
            }
            let shown: Vec<&str> = f
                .lookups
                .iter()
                .map(|l| if l.is_empty() { "exact" } else { l })
                .collect();
            return Err(if shown.is_empty() {
                format!("`{step}` of `{name}` cannot be filtered")
            } else {
                format!(
                    "`{step}` of `{name}` has no lookup `{}`; its lookups: {}",
                    if lookup.is_empty() { "exact" } else { lookup },
                    shown.join(", ")
                )
            });
        };
        let target = f
            .related
            .and_then(crate::meta::ModelMeta::find_path)
            .ok_or_else(|| {
                format!("`{step}` of `{name}` is not a relation, so `{next}` cannot follow it")
            })?;
        (name, fields) = (target.name, target.fields);
    }
    Ok(())
}

impl Filter for RawFilter {
    fn clause(&self) -> FilterClause {
        self.0.clone()
    }
}

/// A sortable field of one model (the generated `<Model>Sort` enums).
pub trait SortField: Copy {
    /// The JSON field name.
    fn field(&self) -> &'static str;

    /// Ascending order.
    fn asc(&self) -> SortKey<Self> {
        SortKey {
            field: *self,
            descending: false,
        }
    }

    /// Descending order (`sort[]=-field`).
    fn desc(&self) -> SortKey<Self> {
        SortKey {
            field: *self,
            descending: true,
        }
    }
}

/// One `sort[]` entry on a field of one model: `S` is the model's sort enum
/// (`SortKey<SessionSort>`), so a list of sessions cannot be sorted by a
/// field of another model.
///
/// ```
/// use brainstem::models::SessionSort;
/// use brainstem::query::{SortField, SortKey};
/// assert_eq!(SessionSort::Name.desc().value(), "-name");
/// assert_eq!(SortKey::from(SessionSort::Name).value(), "name");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SortKey<S> {
    /// The field.
    pub field: S,
    /// Descending order.
    pub descending: bool,
}

impl<S: SortField> SortKey<S> {
    /// The query value (`-name`).
    pub fn value(&self) -> String {
        SortClause::from(*self).value()
    }
}

/// A bare field sorts ascending.
impl<S: SortField> From<S> for SortKey<S> {
    fn from(field: S) -> Self {
        field.asc()
    }
}

/// One `sort[]` entry as data, for [`ListQuery`] (which belongs to no model).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SortClause {
    /// Field name.
    pub field: String,
    /// Descending order.
    pub descending: bool,
}

impl SortClause {
    /// The query value (`-name`).
    pub fn value(&self) -> String {
        if self.descending {
            format!("-{}", self.field)
        } else {
            self.field.clone()
        }
    }
}

impl<S: SortField> From<SortKey<S>> for SortClause {
    fn from(k: SortKey<S>) -> Self {
        SortClause {
            field: k.field.field().to_string(),
            descending: k.descending,
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
    pub sort: Vec<SortClause>,
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

    /// Add a sort key (`SessionSort::Name.desc()`, or a [`SortClause`]).
    pub fn sort(mut self, key: impl Into<SortClause>) -> Self {
        self.sort.push(key.into());
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
