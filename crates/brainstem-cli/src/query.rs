//! `--filters`, `--sort` and `--include`, checked against the model's metadata
//! (the same facts the generated filter / sort / include enums come from).

use brainstem::meta::{FieldKind, FieldMeta, ModelMeta};
use brainstem::query::{FilterClause, LOOKUPS, SortClause};

use crate::CliError;

fn lookup_name(l: &str) -> &str {
    if l.is_empty() { "exact" } else { l }
}

/// Every `field.lookup` the model accepts, for error messages and `describe`.
pub fn valid_filters(meta: &ModelMeta) -> Vec<String> {
    meta.fields
        .iter()
        .flat_map(|f| {
            f.lookups.iter().map(move |l| {
                if l.is_empty() {
                    f.name.to_string()
                } else {
                    format!("{}.{l}", f.name)
                }
            })
        })
        .collect()
}

fn check_value(f: &FieldMeta, lookup: &str, value: &str) -> Result<String, String> {
    if lookup == "isnull" {
        return match value {
            "true" | "True" | "1" => Ok("true".into()),
            "false" | "False" | "0" => Ok("false".into()),
            _ => Err(format!(
                "`{}.isnull` takes true or false, not {value:?}",
                f.name
            )),
        };
    }
    let kind = if f.related.is_some() && f.kind == FieldKind::Json {
        FieldKind::Uuid
    } else {
        f.kind
    };
    let ok = match kind {
        FieldKind::Uuid => uuid::Uuid::parse_str(value).is_ok(),
        FieldKind::Integer => value.parse::<i64>().is_ok(),
        FieldKind::Number => value.parse::<f64>().is_ok(),
        FieldKind::Boolean => matches!(value, "true" | "false" | "True" | "False" | "1" | "0"),
        FieldKind::Date => chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok(),
        FieldKind::DateTime => {
            chrono::DateTime::parse_from_rfc3339(value).is_ok()
                || chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok()
        }
        FieldKind::Choice => f.choices.is_empty() || f.choices.contains(&value),
        FieldKind::Text | FieldKind::Json => true,
    };
    if ok {
        return Ok(value.to_string());
    }
    let expected = match kind {
        FieldKind::Uuid => "a UUID".to_string(),
        FieldKind::Integer => "an integer".to_string(),
        FieldKind::Number => "a number".to_string(),
        FieldKind::Boolean => "true or false".to_string(),
        FieldKind::Date => "a date (YYYY-MM-DD)".to_string(),
        FieldKind::DateTime => "a date-time (2024-01-31T12:00:00Z)".to_string(),
        FieldKind::Choice => format!("one of {}", f.choices.join(", ")),
        _ => "text".to_string(),
    };
    Err(format!(
        "`{}` takes {expected}, not {value:?}",
        if lookup.is_empty() {
            f.name.to_string()
        } else {
            format!("{}.{lookup}", f.name)
        }
    ))
}

/// Parse `[-]FIELD[.LOOKUP]=VALUE` into a filter clause the model accepts.
pub fn parse_filter(meta: &ModelMeta, expr: &str) -> Result<FilterClause, CliError> {
    let usage = |msg: String| CliError::usage(msg);
    let (key, value) = expr.split_once('=').ok_or_else(|| {
        usage(format!(
            "invalid filter {expr:?}: expected FIELD[.LOOKUP]=VALUE, e.g. name.icontains=rat"
        ))
    })?;
    let (negated, key) = match key.strip_prefix('-') {
        Some(k) => (true, k),
        None => (false, key),
    };
    let parts: Vec<&str> = key.split('.').collect();
    let field_name = parts[0];
    let Some(field) = meta.field(field_name) else {
        return Err(usage(format!(
            "unknown filter field {field_name:?} for {}; valid filters: {}",
            meta.name,
            valid_filters(meta).join(", ")
        )));
    };
    // a path through a relation (`projects.name.icontains`) goes to the server as is
    if parts.len() > 1 && field.related.is_some() && !LOOKUPS.contains(&parts[1]) {
        let (path, lookup) = match parts.split_last() {
            Some((last, rest)) if LOOKUPS.contains(last) => (rest.join("."), Some(*last)),
            _ => (key.to_string(), None),
        };
        let values = split_values(lookup.unwrap_or(""), value);
        let mut c = FilterClause::new(&path, lookup, values);
        c.negated = negated;
        return Ok(c);
    }
    if parts.len() > 2 {
        return Err(usage(format!(
            "invalid filter {key:?}: {field_name} is not a relation; valid filters: {}",
            valid_filters(meta).join(", ")
        )));
    }
    let lookup = parts.get(1).copied().unwrap_or("");
    let lookup = if lookup == "exact" { "" } else { lookup };
    if !field.lookups.contains(&lookup) {
        let valid: Vec<&str> = field.lookups.iter().map(|l| lookup_name(l)).collect();
        return Err(usage(if valid.is_empty() {
            format!("{}.{field_name} cannot be filtered", meta.name)
        } else {
            format!(
                "`{field_name}` has no lookup {:?}; valid lookups: {}",
                lookup_name(lookup),
                valid.join(", ")
            )
        }));
    }
    let mut values = Vec::new();
    for v in split_values(lookup, value) {
        values.push(check_value(field, lookup, &v).map_err(usage)?);
    }
    if lookup == "range" && values.len() != 2 {
        return Err(usage(format!(
            "`{field_name}.range` takes two comma-separated values, got {}",
            values.len()
        )));
    }
    let mut c = FilterClause::new(
        field.name,
        if lookup.is_empty() {
            None
        } else {
            Some(lookup)
        },
        values,
    );
    c.negated = negated;
    Ok(c)
}

fn split_values(lookup: &str, value: &str) -> Vec<String> {
    if matches!(lookup, "in" | "range") {
        value.split(',').map(|s| s.trim().to_string()).collect()
    } else {
        vec![value.to_string()]
    }
}

/// Parse `[-]FIELD` into a sort key on a sortable field.
pub fn parse_sort(meta: &ModelMeta, s: &str) -> Result<SortClause, CliError> {
    let (descending, name) = match s.strip_prefix('-') {
        Some(n) => (true, n),
        None => (false, s),
    };
    match meta.field(name) {
        Some(f) if f.sortable => Ok(SortClause {
            field: f.name.to_string(),
            descending,
        }),
        _ => Err(CliError::usage(format!(
            "cannot sort {} by {name:?}; sortable fields: {}",
            meta.name,
            meta.fields
                .iter()
                .filter(|f| f.sortable)
                .map(|f| f.name)
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Check an include against the model's includable relations.
pub fn parse_include(meta: &ModelMeta, rel: &str) -> Result<String, CliError> {
    let name = rel.trim_end_matches(".*");
    match meta.field(name) {
        Some(f) if f.includable => Ok(f.name.to_string()),
        _ => Err(CliError::usage(format!(
            "{} has no includable relation {name:?}; includable: {}",
            meta.name,
            meta.fields
                .iter()
                .filter(|f| f.includable)
                .map(|f| f.name)
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}
