//! Which dynamic-rest filter lookups a field accepts: the one rule. The
//! generated `<Model>Filter` enums, `FieldMeta::lookups` and
//! `brainstem::models::filter_lookups` (for code that meets fields the
//! metadata does not list) all come from it.

/// What a field holds, as far as filtering is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterClass {
    /// A UUID that is not a relation (the record's own id).
    Id,
    /// Free text.
    Text,
    /// One of a listed set of values.
    Choice,
    /// Numbers, dates and date-times: ordered values.
    Ordered,
    /// `true` / `false`.
    Boolean,
    /// Structured JSON: not filterable.
    Json,
}

/// Text: equality, the (case-insensitive) substring and affix lookups, `in`, `isnull`.
pub const TEXT: &[&str] = &[
    "",
    "iexact",
    "contains",
    "icontains",
    "startswith",
    "istartswith",
    "endswith",
    "iendswith",
    "in",
    "isnull",
];
/// Ordered values: equality, comparisons, `range`, `in`, `isnull`.
pub const ORDERED: &[&str] = &["", "gt", "gte", "lt", "lte", "range", "in", "isnull"];
/// Ids and relations: equality, `in`, `isnull`.
pub const ID: &[&str] = &["", "in", "isnull"];
/// Booleans, choices and lists of values: equality and `in`.
pub const EXACT: &[&str] = &["", "in"];

/// The lookups of a field (`""` is the exact match).
pub fn lookups(class: FilterClass, many: bool, related: bool) -> &'static [&'static str] {
    if related || class == FilterClass::Id {
        return ID;
    }
    match class {
        FilterClass::Json | FilterClass::Id => &[],
        _ if many => EXACT,
        FilterClass::Text => TEXT,
        FilterClass::Ordered => ORDERED,
        FilterClass::Choice | FilterClass::Boolean => EXACT,
    }
}
