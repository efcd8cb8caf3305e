//! The spec's schemas as typed static data (`schema.rs`, read through
//! `brainstem::schema`), and the field metadata that points into it.
//!
//! Every component schema becomes one `static` `Component`; every nested
//! schema node becomes a `static` `Schema` shared by all identical nodes
//! (`N<k>`), and every string enumeration a shared `static` list (`L<k>`).
//! Nothing is computed at run time: the validator and the stand-in server
//! walk these statics instead of re-reading the spec.
//!
//! Only the subset of OpenAPI 3.0 the spec uses is accepted; a keyword the
//! runtime does not model is an error here, not silently dropped. Prose
//! (`description`, `title`, `example`) and `x-` annotations that only the
//! generator reads are left out.

use std::collections::HashMap;

use heck::ToShoutySnakeCase;
use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};
use serde_json::{Map, Value};

use super::spec::{Api, Approval, Field, IdKind, Kind};

/// Prefix of a component reference.
const REF: &str = "#/components/schemas/";

/// The name of the `static` holding a component (`ProcedureLog` -> `PROCEDURE_LOG`).
pub fn component_ident(name: &str) -> Ident {
    format_ident!("{}", name.to_shouty_snake_case())
}

/// An expression for the schema of property `index` (in spec order) of a
/// component: what `FieldMeta::schema` points at.
pub fn property_schema(component: &str, index: usize) -> TokenStream {
    let c = component_ident(component);
    let i = Literal::usize_unsuffixed(index);
    quote! { crate::schema::data::#c.schema.properties[#i].schema }
}

fn opt_str(s: Option<&str>) -> TokenStream {
    match s {
        Some(s) => quote! { ::core::option::Option::Some(#s) },
        None => quote! { ::core::option::Option::None },
    }
}

fn kind_tokens(f: &Field) -> TokenStream {
    match &f.kind {
        Kind::Uuid => quote! { crate::meta::FieldKind::Uuid },
        Kind::Integer => quote! { crate::meta::FieldKind::Integer },
        Kind::Number => quote! { crate::meta::FieldKind::Number },
        Kind::Boolean => quote! { crate::meta::FieldKind::Boolean },
        Kind::Text => quote! { crate::meta::FieldKind::Text },
        Kind::Date => quote! { crate::meta::FieldKind::Date },
        Kind::DateTime => quote! { crate::meta::FieldKind::DateTime },
        Kind::Choice(_) => quote! { crate::meta::FieldKind::Choice },
        Kind::Json => quote! { crate::meta::FieldKind::Json },
    }
}

/// The `FieldMeta` of field `index` of the record schema `component`.
pub fn field_meta(api: &Api, component: &str, index: usize, f: &Field) -> TokenStream {
    let name = &f.json;
    let kind = kind_tokens(f);
    let many = f.many;
    let read_only = f.read_only;
    let nullable = f.nullable;
    let create_required = f.create_required;
    let response_required = f.response_required;
    let patch_required = f.patch_required;
    let unique = f.unique;
    let create_only = f.create_only;
    let related = opt_str(f.related.as_deref());
    let lks = super::emit::lookups(f);
    let sortable = f.sortable;
    let includable = f.includable
        && f.related
            .as_deref()
            .is_some_and(|t| api.model_by_path(t).is_some());
    let choices: Vec<&String> = match &f.kind {
        Kind::Choice(v) => v.iter().collect(),
        _ => vec![],
    };
    let schema = property_schema(component, index);
    quote! {
        crate::meta::FieldMeta {
            name: #name,
            kind: #kind,
            many: #many,
            read_only: #read_only,
            nullable: #nullable,
            create_required: #create_required,
            response_required: #response_required,
            patch_required: #patch_required,
            unique: #unique,
            create_only: #create_only,
            related: #related,
            lookups: &[#(#lks),*],
            sortable: #sortable,
            includable: #includable,
            choices: &[#(#choices),*],
            schema: #schema,
        }
    }
}

/// The `ApprovalMeta` of an approval-gated model, with the approval schema's
/// own fields.
pub fn approval_meta(api: &Api, a: &Approval, ops: TokenStream) -> TokenStream {
    let (model, schema, one, many) = (&a.model, &a.schema, &a.one, &a.many);
    let id = match a.id {
        IdKind::Uuid => quote! { crate::meta::IdKind::Uuid },
        IdKind::Integer => quote! { crate::meta::IdKind::Integer },
    };
    let fields = a
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| field_meta(api, &a.schema, i, f));
    quote! {
        crate::meta::ApprovalMeta {
            model: #model,
            schema: #schema,
            one: #one,
            many: #many,
            id: #id,
            fields: &[#(#fields,)*],
            #ops
        }
    }
}

/// Keywords left out on purpose: prose, and annotations only the generator
/// (or no code at all) reads.
fn ignored(key: &str) -> bool {
    matches!(key, "description" | "title" | "example") || key.starts_with("x-")
}

/// Keywords a schema node may carry (all others are refused).
const KNOWN: &[&str] = &[
    "$ref",
    "allOf",
    "oneOf",
    "anyOf",
    "type",
    "format",
    "nullable",
    "readOnly",
    "writeOnly",
    "enum",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "exclusiveMinimum",
    "maximum",
    "exclusiveMaximum",
    "items",
    "minItems",
    "maxItems",
    "uniqueItems",
    "properties",
    "required",
    "additionalProperties",
    "default",
];

struct Emitter<'a> {
    components: &'a Map<String, Value>,
    /// `static` items: shared nodes and lists.
    items: Vec<TokenStream>,
    /// Node literal text -> its static.
    nodes: HashMap<String, Ident>,
    /// String list text -> its static.
    lists: HashMap<String, Ident>,
}

impl Emitter<'_> {
    /// A shared node for a schema: `&N<k>`.
    fn node(&mut self, v: &Value, at: &str) -> Result<TokenStream, String> {
        let lit = self.literal(v, at)?;
        let key = lit.to_string();
        let id = match self.nodes.get(&key) {
            Some(id) => id.clone(),
            None => {
                let id = format_ident!("N{}", self.nodes.len());
                self.items.push(quote! { static #id: Schema = #lit; });
                self.nodes.insert(key, id.clone());
                id
            }
        };
        Ok(quote! { &#id })
    }

    /// A shared list of strings: `&L<k>`.
    fn list(&mut self, values: &[&str]) -> TokenStream {
        let n = Literal::usize_unsuffixed(values.len());
        let lit = quote! { [#(#values),*] };
        let key = lit.to_string();
        let id = match self.lists.get(&key) {
            Some(id) => id.clone(),
            None => {
                let id = format_ident!("L{}", self.lists.len());
                self.items.push(quote! { static #id: [&str; #n] = #lit; });
                self.lists.insert(key, id.clone());
                id
            }
        };
        quote! { &#id }
    }

    fn nodes(&mut self, v: &Value, at: &str) -> Result<TokenStream, String> {
        let list = v
            .as_array()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| format!("{at}: must be a non-empty list of schemas"))?;
        let mut out = Vec::new();
        for (i, x) in list.iter().enumerate() {
            out.push(self.node(x, &format!("{at}[{i}]"))?);
        }
        Ok(quote! { &[#(#out),*] })
    }

    /// `Schema { ..Schema::EMPTY }` with the keywords the schema sets, in
    /// the struct's field order (so identical schemas write identical text).
    fn literal(&mut self, v: &Value, at: &str) -> Result<TokenStream, String> {
        let m = v
            .as_object()
            .ok_or_else(|| format!("{at}: a schema must be a JSON object"))?;
        if let Some(k) = m
            .keys()
            .find(|k| !ignored(k) && !KNOWN.contains(&k.as_str()))
        {
            return Err(format!(
                "{at}: keyword `{k}` is not supported (brainstem::schema does not model it)"
            ));
        }
        let text = |k: &str| -> Result<Option<&str>, String> {
            match m.get(k) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(_) => Err(format!("{at}: `{k}` must be a string")),
            }
        };
        let flag = |k: &str| -> Result<bool, String> {
            match m.get(k) {
                None => Ok(false),
                Some(Value::Bool(b)) => Ok(*b),
                Some(_) => Err(format!("{at}: `{k}` must be true or false")),
            }
        };
        let count = |k: &str| -> Result<Option<u64>, String> {
            match m.get(k) {
                None => Ok(None),
                Some(x) => x
                    .as_u64()
                    .map(Some)
                    .ok_or_else(|| format!("{at}: `{k}` must be a non-negative integer")),
            }
        };
        let json_text = |k: &str| -> Result<Option<String>, String> {
            m.get(k)
                .map(|x| serde_json::to_string(x).map_err(|e| format!("{at}: `{k}`: {e}")))
                .transpose()
        };
        let mut f: Vec<TokenStream> = Vec::new();
        let some = |t: TokenStream| quote! { Some(#t) };

        if let Some(r) = text("$ref")? {
            let name = r
                .strip_prefix(REF)
                .filter(|n| self.components.contains_key(*n))
                .ok_or_else(|| format!("{at}: `$ref` {r:?} names no component schema"))?;
            let id = component_ident(name);
            f.push(quote! { reference: Some(&#id) });
        }
        for (key, field) in [
            ("allOf", "all_of"),
            ("oneOf", "one_of"),
            ("anyOf", "any_of"),
        ] {
            if let Some(x) = m.get(key) {
                let list = self.nodes(x, &format!("{at}/{key}"))?;
                let field = format_ident!("{field}");
                f.push(quote! { #field: #list });
            }
        }
        if let Some(t) = text("type")? {
            let t = match t {
                "string" => quote! { Type::String },
                "integer" => quote! { Type::Integer },
                "number" => quote! { Type::Number },
                "boolean" => quote! { Type::Boolean },
                "array" => quote! { Type::Array },
                "object" => quote! { Type::Object },
                other => return Err(format!("{at}: unknown type {other:?}")),
            };
            let t = some(t);
            f.push(quote! { ty: #t });
        }
        if let Some(fmt) = text("format")? {
            let t = match fmt {
                "uuid" => quote! { Format::Uuid },
                "date" => quote! { Format::Date },
                "date-time" => quote! { Format::DateTime },
                "time" => quote! { Format::Time },
                "email" => quote! { Format::Email },
                "uri" => quote! { Format::Uri },
                other => quote! { Format::Other(#other) },
            };
            let t = some(t);
            f.push(quote! { format: #t });
        }
        for (key, field) in [
            ("nullable", "nullable"),
            ("readOnly", "read_only"),
            ("writeOnly", "write_only"),
        ] {
            if flag(key)? {
                let field = format_ident!("{field}");
                f.push(quote! { #field: true });
            }
        }
        if let Some(values) = m.get("enum") {
            let values = values
                .as_array()
                .ok_or_else(|| format!("{at}: `enum` must be a list"))?;
            let strings: Option<Vec<&str>> = values.iter().map(Value::as_str).collect();
            let ints: Option<Vec<i64>> = values.iter().map(Value::as_i64).collect();
            let nums: Option<Vec<f64>> = values.iter().map(Value::as_f64).collect();
            let e = match (strings, ints, nums) {
                (Some(s), _, _) => {
                    let l = self.list(&s);
                    quote! { Enumeration::Strings(#l) }
                }
                (None, Some(i), _) => {
                    let i = i.iter().map(|x| {
                        let lit = Literal::u64_unsuffixed(x.unsigned_abs());
                        if *x < 0 {
                            quote! { -#lit }
                        } else {
                            quote! { #lit }
                        }
                    });
                    quote! { Enumeration::Integers(&[#(#i),*]) }
                }
                (None, None, Some(n)) => {
                    let n = n.iter().map(|x| f64_tokens(*x));
                    quote! { Enumeration::Numbers(&[#(#n),*]) }
                }
                _ => {
                    return Err(format!(
                        "{at}: `enum` must list only strings or only numbers"
                    ));
                }
            };
            let e = some(e);
            f.push(quote! { enumeration: #e });
        }
        for (key, field) in [("minLength", "min_length"), ("maxLength", "max_length")] {
            if let Some(n) = count(key)? {
                let field = format_ident!("{field}");
                let n = Literal::u64_unsuffixed(n);
                f.push(quote! { #field: Some(#n) });
            }
        }
        if let Some(p) = text("pattern")? {
            check_pattern(at, "pattern", p)?;
            f.push(quote! { pattern: Some(#p) });
        }
        for (key, excl, field) in [
            ("minimum", "exclusiveMinimum", "minimum"),
            ("maximum", "exclusiveMaximum", "maximum"),
        ] {
            let exclusive = flag(excl)?;
            if let Some(x) = m.get(key) {
                let x = x
                    .as_f64()
                    .ok_or_else(|| format!("{at}: `{key}` must be a number"))?;
                let x = f64_tokens(x);
                let field = format_ident!("{field}");
                f.push(quote! {
                    #field: Some(Bound { value: #x, exclusive: #exclusive })
                });
            }
        }
        if let Some(x) = m.get("items") {
            let n = self.node(x, &format!("{at}/items"))?;
            f.push(quote! { items: Some(#n) });
        }
        for (key, field) in [("minItems", "min_items"), ("maxItems", "max_items")] {
            if let Some(n) = count(key)? {
                let field = format_ident!("{field}");
                let n = Literal::u64_unsuffixed(n);
                f.push(quote! { #field: Some(#n) });
            }
        }
        if flag("uniqueItems")? {
            f.push(quote! { unique_items: true });
        }
        if let Some(props) = m.get("properties") {
            let props = props
                .as_object()
                .ok_or_else(|| format!("{at}: `properties` must be an object"))?;
            let mut out = Vec::new();
            for (name, p) in props {
                let n = self.node(p, &format!("{at}.{name}"))?;
                out.push(quote! { Property { name: #name, schema: #n } });
            }
            f.push(quote! { properties: &[#(#out),*] });
        }
        if let Some(req) = m.get("required") {
            let req: Vec<&str> = req
                .as_array()
                .and_then(|a| a.iter().map(Value::as_str).collect())
                .ok_or_else(|| format!("{at}: `required` must be a list of names"))?;
            f.push(quote! { required: &[#(#req),*] });
        }
        match m.get("additionalProperties") {
            None => {}
            Some(Value::Bool(b)) => f.push(quote! {
                additional_properties: Some(Additional::Allowed(#b))
            }),
            Some(x) => {
                let n = self.node(x, &format!("{at}/additionalProperties"))?;
                f.push(quote! {
                    additional_properties: Some(Additional::Schema(#n))
                });
            }
        }
        if let Some(d) = json_text("default")? {
            f.push(quote! { default: Some(#d) });
        }
        if let Some(e) = json_text("x-brainstem-example")? {
            f.push(quote! { example: Some(#e) });
        }
        if let Some(r) = text("x-brainstem-related")? {
            f.push(quote! { related: Some(#r) });
        }
        for (key, field) in [
            ("x-brainstem-unique", "unique"),
            ("x-brainstem-create-only", "create_only"),
        ] {
            if flag(key)? {
                let field = format_ident!("{field}");
                f.push(quote! { #field: true });
            }
        }
        for (key, field) in [
            ("x-brainstem-quantity", "quantity"),
            ("x-brainstem-key-pattern", "key_pattern"),
            ("x-brainstem-details-group", "details_group"),
        ] {
            if let Some(s) = text(key)? {
                if field == "key_pattern" {
                    check_pattern(at, key, s)?;
                }
                let field = format_ident!("{field}");
                f.push(quote! { #field: Some(#s) });
            }
        }
        Ok(quote! { Schema { #(#f,)* ..Schema::EMPTY } })
    }
}

fn f64_tokens(x: f64) -> TokenStream {
    let lit = Literal::f64_unsuffixed(x.abs());
    if x.is_sign_negative() {
        quote! { -#lit }
    } else {
        quote! { #lit }
    }
}

/// `schema.rs`: every component, its shared nodes, and the lookup tables
/// (`COMPONENTS` by name, `DETAILS` by (group, type), `REQUEST_BODIES` by
/// operationId).
pub fn schemas(spec: &Value, api: &Api) -> Result<TokenStream, String> {
    let components = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .ok_or("no components.schemas")?;
    let mut e = Emitter {
        components,
        items: Vec::new(),
        nodes: HashMap::new(),
        lists: HashMap::new(),
    };
    let mut seen: HashMap<String, &str> = HashMap::new();
    let mut statics = Vec::new();
    let mut details: Vec<(&str, &str, Ident)> = Vec::new();
    for (name, schema) in components {
        let id = component_ident(name);
        let shown = id.to_string();
        let generated = |s: &str| {
            ["COMPONENTS", "DETAILS", "REQUEST_BODIES"].contains(&s)
                || (s.len() > 1
                    && (s.starts_with('N') || s.starts_with('L'))
                    && s[1..].bytes().all(|b| b.is_ascii_digit()))
        };
        if generated(&shown) {
            return Err(format!("component {name}: its static {shown} would clash"));
        }
        if let Some(other) = seen.insert(shown.clone(), name) {
            return Err(format!(
                "components {other} and {name} both become the static {shown}"
            ));
        }
        let lit = e.literal(schema, name)?;
        statics.push(quote! {
            pub(crate) static #id: Component = Component { name: #name, schema: #lit };
        });
        if let Some(s) = schema.get("x-brainstem-schema") {
            let (group, ty) = s
                .as_str()
                .and_then(|s| s.split_once('/'))
                .ok_or_else(|| format!("{name}: x-brainstem-schema must be \"<Group>/<Type>\""))?;
            details.push((group, ty, id.clone()));
        }
    }
    // typed payloads, ordered for binary search
    details.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    for w in details.windows(2) {
        if (w[0].0, w[0].1) == (w[1].0, w[1].1) {
            return Err(format!(
                "two components are the payload schema {}/{}",
                w[0].0, w[0].1
            ));
        }
    }
    // request bodies, by operationId
    let mut bodies: Vec<(String, Ident)> = Vec::new();
    if let Some(paths) = spec.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                let Some(body) = op.pointer("/requestBody/content/application~1json/schema") else {
                    continue;
                };
                let id = op
                    .get("operationId")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("{method} {path} has no operationId"))?;
                let name = body
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix(REF))
                    .filter(|n| components.contains_key(*n))
                    .ok_or_else(|| {
                        format!("{id}: the JSON request body must `$ref` a component schema")
                    })?;
                bodies.push((id.to_string(), component_ident(name)));
            }
        }
    }
    bodies.sort_by(|a, b| a.0.cmp(&b.0));
    // every model's and approval's fields point into these statics by index:
    // the fields must be the schema's properties, in order
    for m in &api.models {
        let records = std::iter::once((&m.schema, &m.fields))
            .chain(m.approval.as_ref().map(|a| (&a.schema, &a.fields)));
        for (schema, fields) in records {
            let props: Vec<&String> = components
                .get(schema)
                .and_then(|c| c.get("properties"))
                .and_then(Value::as_object)
                .map(|p| p.keys().collect())
                .unwrap_or_default();
            let names: Vec<&String> = fields.iter().map(|f| &f.json).collect();
            if props != names {
                return Err(format!("{schema}: fields out of step with its properties"));
            }
        }
    }

    let mut names: Vec<&String> = components.keys().collect();
    names.sort();
    let n = Literal::usize_unsuffixed(names.len());
    let all = names.iter().map(|c| component_ident(c));
    let nd = Literal::usize_unsuffixed(details.len());
    let details = details.iter().map(|(g, t, id)| quote! { (#g, #t, &#id) });
    let nb = Literal::usize_unsuffixed(bodies.len());
    let bodies = bodies.iter().map(|(op, id)| quote! { (#op, &#id) });
    let items = e.items;
    Ok(quote! {
        /// Every component, ordered by name.
        pub(crate) static COMPONENTS: [&Component; #n] = [#(&#all),*];
        /// Typed payload schemas: (group, type, component), ordered.
        pub(crate) static DETAILS: [(&str, &str, &Component); #nd] = [#(#details),*];
        /// JSON request bodies: (operationId, component), ordered.
        pub(crate) static REQUEST_BODIES: [(&str, &Component); #nb] = [#(#bodies),*];
        #(#statics)*
        #(#items)*
    })
}

/// A pattern the SDK cannot check is refused here, at generation, rather
/// than skipped at run time: `brainstem::validate` (and the stand-in server)
/// match patterns with `regex-lite`, whose syntax is close to, but not all of,
/// ECMA 262 (no look-around, no back-references, ASCII classes only).
fn check_pattern(at: &str, key: &str, pattern: &str) -> Result<(), String> {
    regex_lite::Regex::new(pattern).map(|_| ()).map_err(|e| {
        format!(
            "{at}: `{key}` {pattern:?} is not one the SDK can check ({e}); \
             rewrite it in the syntax regex-lite accepts (see schema/CONVENTIONS.md)"
        )
    })
}
