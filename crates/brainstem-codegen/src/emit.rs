//! The code we generate ourselves, next to typify's types: open enums, the
//! model metadata and `Model` impls, the per-model filter / sort / include
//! enums, constructors for the create shapes, `Validate` impls and the
//! `Operation` enum (`models.rs`, one function per artifact), and the
//! client's per-model accessors and typed loaders (`client_api.rs`).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use super::names;
use super::shapes::Enums;
use super::spec::{Api, Field, IdKind, Kind, Model, resolve};

/// The lookups a field allows (the one rule in `src/lookups.rs`).
pub fn lookups(f: &Field) -> &'static [&'static str] {
    use super::lookups::{FilterClass, lookups};
    if !f.filterable {
        return &[];
    }
    let class = match f.kind {
        Kind::Uuid => FilterClass::Id,
        Kind::Text => FilterClass::Text,
        Kind::Choice(_) => FilterClass::Choice,
        Kind::Integer | Kind::Number | Kind::Date | Kind::DateTime => FilterClass::Ordered,
        Kind::Boolean => FilterClass::Boolean,
        Kind::Json => FilterClass::Json,
    };
    lookups(class, f.many, f.related.is_some())
}

fn doc(s: &str) -> TokenStream {
    let s = format!(" {}", s.trim());
    quote! { #[doc = #s] }
}

/// The Rust name of the open enum generated for a field's values.
fn choice_type(spec: &Value, m: &Model, f: &Field) -> TokenStream {
    let p = &f.schema;
    let name = if f.many {
        let items = resolve(spec, p)
            .get("items")
            .cloned()
            .unwrap_or(Value::Null);
        match super::spec::ref_name(&items) {
            Some(r) => r.to_string(),
            None => format!("{}{}Item", m.schema, names::pascal(&f.json)),
        }
    } else {
        match super::spec::ref_name(p) {
            Some(r) => r.to_string(),
            None => format!("{}{}", m.schema, names::pascal(&f.json)),
        }
    };
    let id = format_ident!("{}", name);
    quote! { crate::enums::#id }
}

pub(crate) fn value_type(spec: &Value, m: &Model, f: &Field, api: &Api) -> TokenStream {
    if let Some(target) = f.related.as_deref().and_then(|t| api.model_by_path(t)) {
        return match target.id {
            IdKind::Uuid => quote! { ::uuid::Uuid },
            IdKind::Integer => quote! { i64 },
        };
    }
    match &f.kind {
        Kind::Uuid => quote! { ::uuid::Uuid },
        Kind::Integer => quote! { i64 },
        Kind::Number => quote! { f64 },
        Kind::Boolean => quote! { bool },
        Kind::Text => quote! { ::std::string::String },
        Kind::Date => quote! { ::chrono::NaiveDate },
        Kind::DateTime => quote! { ::chrono::DateTime<::chrono::Utc> },
        Kind::Choice(_) => choice_type(spec, m, f),
        Kind::Json => quote! { ::serde_json::Value },
    }
}

fn opt_str(s: Option<&str>) -> TokenStream {
    match s {
        Some(s) => quote! { ::core::option::Option::Some(#s) },
        None => quote! { ::core::option::Option::None },
    }
}

pub fn open_enums(enums: &Enums) -> TokenStream {
    let items = enums.values().map(|e| {
        let name = format_ident!("{}", e.name);
        let variants = e.variant_names();
        let pairs = variants.iter().zip(&e.values).map(|(v, s)| {
            let v = format_ident!("{}", v);
            quote! { #v => #s }
        });
        let d = match &e.description {
            // the text of the property the enum was made for
            Some(d) => format!("{} Values not listed parse as `Unknown`.", d.trim_end()),
            None => format!(
                "One of the values the schema lists for `{}`; other values parse as `Unknown`.",
                e.name
            ),
        };
        quote! {
            crate::open_enum! {
                #[doc = #d]
                #name { #(#pairs,)* }
            }
        }
    });
    quote! { #(#items)* }
}

/// An enum of a model's field names implementing `trait_name` (sort keys, includes).
fn field_enum(
    ty: &proc_macro2::Ident,
    trait_name: TokenStream,
    doc_text: &str,
    fields: Vec<(&str, String)>,
) -> TokenStream {
    let entries = fields.iter().map(|(json, d)| {
        let v = format_ident!("{}", names::pascal(json));
        quote! { #[doc = #d] #v => #json }
    });
    quote! {
        crate::field_enum! {
            #[doc = #doc_text]
            #ty: #trait_name { #(#entries,)* }
        }
    }
}

/// For each struct typify generated: (rust field, required, type tokens).
pub type TypeFields = std::collections::BTreeMap<String, Vec<(String, bool, TokenStream)>>;

/// The relations of a model that `include[]` can embed (targets that are models).
pub(crate) fn includable<'a>(api: &Api, m: &'a Model) -> Vec<&'a Field> {
    m.fields
        .iter()
        .filter(|f| {
            f.includable
                && f.related
                    .as_deref()
                    .is_some_and(|t| api.model_by_path(t).is_some())
        })
        .collect()
}

/// The static holding a model's metadata (`SESSION`).
fn meta_ident(m: &Model) -> proc_macro2::Ident {
    format_ident!("{}", m.url.to_uppercase())
}

/// The `Operation` variant of an operationId: the schema name of the model
/// it belongs to (or of the approval record, for an approval queue's), then
/// the rest of the id (`data_acquisition_list` -> `DataAcquisitionList`,
/// `speciesapproval_accept` -> `SpeciesApprovalAccept`,
/// `project_sessions_list` -> `ProjectSessionsList`); operations of no model
/// are the id in PascalCase (`auth_device_create` -> `AuthDeviceCreate`).
pub(crate) fn op_variant(api: &Api, id: &str) -> proc_macro2::Ident {
    let model = api
        .ops
        .iter()
        .find(|o| o.id == id)
        .and_then(|o| o.model.as_deref());
    let schema = model.and_then(|path| {
        api.models.iter().find_map(|m| {
            if m.path() == path {
                Some(m.schema.as_str())
            } else {
                m.approval
                    .as_ref()
                    .filter(|a| a.model == path)
                    .map(|a| a.schema.as_str())
            }
        })
    });
    let url = model.and_then(|p| p.rsplit('/').next());
    match (
        schema,
        url.and_then(|u| id.strip_prefix(u)?.strip_prefix('_')),
    ) {
        (Some(schema), Some(rest)) => format_ident!("{}{}", schema, names::pascal(rest)),
        _ => format_ident!("{}", names::pascal(id)),
    }
}

fn opt_op(api: &Api, id: Option<&str>) -> TokenStream {
    match id {
        Some(id) => {
            let v = op_variant(api, id);
            quote! { ::core::option::Option::Some(Operation::#v) }
        }
        None => quote! { ::core::option::Option::None },
    }
}

/// The operation `<name>_<suffix>` of the model `app/name`, if the spec has it.
fn op_named<'a>(api: &'a Api, model_path: &'a str, suffix: &str) -> Option<&'a str> {
    let name = model_path.rsplit('/').next().unwrap_or(model_path);
    let id = format!("{name}_{suffix}");
    api.ops_of(model_path)
        .find(|o| o.id == id)
        .map(|o| o.id.as_str())
}

/// The variants of a model's filter enum, in order: (field, lookup,
/// variant name, payload type in parentheses).
pub(crate) fn filter_variants<'a>(
    spec: &Value,
    api: &Api,
    m: &'a Model,
) -> Vec<(&'a Field, &'static str, proc_macro2::Ident, TokenStream)> {
    let mut out = Vec::new();
    for f in &m.fields {
        let vt = value_type(spec, m, f, api);
        for lk in lookups(f) {
            let vname = if lk.is_empty() {
                format_ident!("{}", names::pascal(&f.json))
            } else {
                format_ident!("{}{}", names::pascal(&f.json), names::pascal(lk))
            };
            let payload = match *lk {
                "in" => quote! { (::std::vec::Vec<#vt>) },
                "range" => quote! { (#vt, #vt) },
                "isnull" => quote! { (bool) },
                _ => quote! { (#vt) },
            };
            out.push((f, *lk, vname, payload));
        }
    }
    out
}

/// The fields a model can be sorted by (its `<Model>Sort` variants).
pub(crate) fn sortable(m: &Model) -> impl Iterator<Item = &Field> {
    m.fields.iter().filter(|f| f.sortable)
}

/// The typed filter enum of a model: one variant per (field, lookup).
fn filter_enum(spec: &Value, api: &Api, m: &Model) -> TokenStream {
    let filter_ty = format_ident!("{}Filter", m.schema);
    let mut variants = Vec::new();
    let mut arms = Vec::new();
    for (f, lk, vname, payload) in filter_variants(spec, api, m) {
        let key = &f.json;
        let (lk_tok, shown) = if lk.is_empty() {
            (
                quote! { ::core::option::Option::None },
                format!("`filter{{{key}}}`: equal to the value."),
            )
        } else {
            (
                quote! { ::core::option::Option::Some(#lk) },
                format!("`filter{{{key}.{lk}}}`."),
            )
        };
        let d = doc(&shown);
        let (pattern, values) = match lk {
            "in" => (quote! { (v) }, quote! { v }),
            "range" => (quote! { (a, b) }, quote! { [a, b] }),
            _ => (quote! { (v) }, quote! { [v] }),
        };
        variants.push(quote! { #d #vname #payload });
        arms.push(quote! {
            Self::#vname #pattern => crate::query::FilterClause::of(#key, #lk_tok, #values)
        });
    }
    let path = m.path();
    let filter_doc = format!(
        "The filters `{path}` accepts: one variant per (field, lookup) pair, with a typed value. Negate one with [`Filter::not`](crate::query::Filter::not)."
    );
    let body = if arms.is_empty() {
        quote! { match *self {} }
    } else {
        quote! { match self { #(#arms,)* } }
    };
    quote! {
        #[doc = #filter_doc]
        #[derive(Clone, Debug, PartialEq)]
        pub enum #filter_ty { #(#variants,)* }
        impl crate::query::Filter for #filter_ty {
            fn clause(&self) -> crate::query::FilterClause { #body }
        }
    }
}

/// The name of a filter lookup's trait in `brainstem::query::lookup`
/// (`""` is the exact match).
fn lookup_trait(lk: &str) -> proc_macro2::Ident {
    if lk.is_empty() {
        format_ident!("Exact")
    } else {
        format_ident!("{}", names::pascal(lk))
    }
}

/// The method of `brainstem::query::Lookups` for a lookup.
fn lookup_method(lk: &str) -> String {
    match lk {
        "" => "exact".into(),
        "in" => "is_in".into(),
        other => other.into(),
    }
}

/// The module of a model's field markers (`brainstem::models::session`): one
/// unit struct per field, implementing the lookup traits of the lookups the
/// field has, each building the model's filter enum. A lookup a field lacks
/// is a trait it does not implement, so rustc names the field and the lookup
/// (`#[diagnostic::on_unimplemented]` on the lookup traits) instead of
/// suggesting some other variant of the filter enum.
fn filter_fields(spec: &Value, api: &Api, m: &Model) -> TokenStream {
    let filter_ty = format_ident!("{}Filter", m.schema);
    let module = format_ident!("{}", names::field(&m.schema));
    let path = m.path();
    let variants = filter_variants(spec, api, m);
    let mut items = Vec::new();
    for f in &m.fields {
        let marker = format_ident!("{}", names::pascal(&f.json));
        let json = &f.json;
        let vt = value_type(spec, m, f, api);
        let mine: Vec<_> = variants.iter().filter(|v| v.0.json == f.json).collect();
        let listed: Vec<String> = mine
            .iter()
            .map(|(_, lk, _, _)| format!("`{}`", lookup_method(lk)))
            .collect();
        let d = if listed.is_empty() {
            format!("Field `{json}` of `{path}`: not filterable (no lookups).")
        } else {
            format!(
                "Field `{json}` of `{path}`, for typed filters ([`Lookups`](crate::query::Lookups)): {}.",
                listed.join(", ")
            )
        };
        let mut impls = Vec::new();
        for (_, lk, vname, _) in &mine {
            let tr = lookup_trait(lk);
            let body = match *lk {
                "in" => quote! {
                    fn build(v: ::std::vec::Vec<#vt>) -> super::#filter_ty { super::#filter_ty::#vname(v) }
                },
                "range" => quote! {
                    fn build(a: #vt, b: #vt) -> super::#filter_ty { super::#filter_ty::#vname(a, b) }
                },
                "isnull" => quote! {
                    fn build(v: bool) -> super::#filter_ty { super::#filter_ty::#vname(v) }
                },
                _ => quote! {
                    fn build(v: #vt) -> super::#filter_ty { super::#filter_ty::#vname(v) }
                },
            };
            impls.push(quote! {
                impl crate::query::lookup::#tr for #marker { #body }
            });
        }
        items.push(quote! {
            #[doc = #d]
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
            pub struct #marker;
            impl crate::query::FilterField for #marker {
                type Value = #vt;
                type Filter = super::#filter_ty;
                const NAME: &'static str = #json;
            }
            #(#impls)*
        });
    }
    let module_doc = format!(
        "The fields of `{path}` as typed filter builders: `{module}::<Field>.<lookup>(value)` (with [`Lookups`](crate::query::Lookups) in scope) is a [`{filter_ty}`]. A lookup the field does not have does not compile, and the error names the field and the lookup."
    );
    quote! {
        #[doc = #module_doc]
        pub mod #module {
            #(#items)*
        }
    }
}

/// The fields a model can be sorted by.
fn sort_enum(m: &Model) -> TokenStream {
    let path = m.path();
    field_enum(
        &format_ident!("{}Sort", m.schema),
        quote! { SortField },
        &format!("The fields `{path}` can be sorted by; `.asc()` / `.desc()` make a sort key."),
        sortable(m)
            .map(|f| (f.json.as_str(), format!("Sort by `{}`.", f.json)))
            .collect(),
    )
}

/// The relations `include[]` can embed.
fn include_enum(api: &Api, m: &Model) -> TokenStream {
    let path = m.path();
    field_enum(
        &format_ident!("{}Include", m.schema),
        quote! { IncludeField },
        &format!("The relations of `{path}` that `include[]` can embed."),
        includable(api, m)
            .iter()
            .map(|f| {
                (
                    f.json.as_str(),
                    format!(
                        "Embed the related `{}` records in `{}`.",
                        f.related.as_deref().unwrap_or(""),
                        f.json
                    ),
                )
            })
            .collect(),
    )
}

/// The model's `ModelMeta` static: URL, envelope keys, fields, typed operations.
fn model_meta(api: &Api, m: &Model) -> TokenStream {
    let path = m.path();
    let fields = (m.fields.iter().enumerate())
        .map(|(i, f)| super::schema_emit::field_meta(api, &m.schema, i, f));
    let ops = api.ops_of(&path).map(|o| op_variant(api, &o.id));
    let actions = api
        .ops_of(&path)
        .filter(|o| o.action.is_some())
        .map(|o| op_variant(api, &o.id));
    let [list, retrieve, create, partial_update, update, destroy] = [
        "list",
        "retrieve",
        "create",
        "partial_update",
        "update",
        "destroy",
    ]
    .map(|suffix| opt_op(api, op_named(api, &path, suffix)));
    let approval = match &m.approval {
        Some(a) => {
            let [list, retrieve, accept, reject] = ["list", "retrieve", "accept", "reject"]
                .map(|suffix| opt_op(api, op_named(api, &a.model, suffix)));
            let a = super::schema_emit::approval_meta(
                api,
                a,
                quote! { list: #list, retrieve: #retrieve, accept: #accept, reject: #reject, },
            );
            quote! { ::core::option::Option::Some(#a) }
        }
        None => quote! { ::core::option::Option::None },
    };
    let loader = match &m.loader {
        Some(l) => {
            let inc = &l.default_include;
            let keys = l.filters.iter().map(|(k, _)| k);
            let vals = l.filters.iter().map(|(_, v)| v);
            quote! { ::core::option::Option::Some(crate::meta::LoaderMeta { default_include: &[#(#inc),*], filters: &[#((#keys, #vals)),*] }) }
        }
        None => quote! { ::core::option::Option::None },
    };
    let details = m.details.iter().map(|d| {
        let (g, t, c) = (&d.group, &d.tag, &d.content);
        quote! { crate::meta::DetailsSlotMeta { group: #g, tag: #t, content: #c } }
    });
    let id_kind = match m.id {
        IdKind::Uuid => quote! { crate::meta::IdKind::Uuid },
        IdKind::Integer => quote! { crate::meta::IdKind::Integer },
    };
    let (schema, app, url, one, many, description) =
        (&m.schema, &m.app, &m.url, &m.one, &m.many, &m.description);
    let meta_ident = meta_ident(m);
    let meta_doc = format!("Metadata of `{path}`: its URL, envelope keys, fields and operations.");
    let meta_doc = match &m.docs_url {
        Some(url) => super::shapes::with_docs_link(&meta_doc, url),
        None => meta_doc,
    };
    quote! {
        #[doc = #meta_doc]
        pub static #meta_ident: crate::meta::ModelMeta = crate::meta::ModelMeta {
            schema: #schema,
            app: #app,
            name: #url,
            one: #one,
            many: #many,
            id: #id_kind,
            description: #description,
            fields: &[#(#fields,)*],
            ops: &[#(Operation::#ops),*],
            list: #list,
            retrieve: #retrieve,
            create: #create,
            partial_update: #partial_update,
            update: #update,
            destroy: #destroy,
            actions: &[#(Operation::#actions),*],
            approval: #approval,
            loader: #loader,
            details: &[#(#details,)*],
        };
    }
}

/// `visit_related_mut` of the `Model` impl: every relation field whose type
/// holds `Related` values.
fn visit_related(api: &Api, m: &Model, type_fields: &TypeFields) -> Result<TokenStream, String> {
    let record_fields = type_fields
        .get(&m.schema)
        .ok_or_else(|| format!("typify produced no {}", m.schema))?;
    let mut arms = Vec::new();
    for f in &m.fields {
        if f.related
            .as_deref()
            .and_then(|t| api.model_by_path(t))
            .is_none()
        {
            continue;
        }
        let Some((_, _, fty)) = record_fields.iter().find(|(r, _, _)| *r == f.rust) else {
            continue;
        };
        let t = fty.to_string().replace(' ', "");
        if !t.contains("Related<") {
            return Err(format!(
                "{}.{}: a relation whose type is {t}",
                m.schema, f.json
            ));
        }
        let id = format_ident!("{}", f.rust);
        let json = &f.json;
        // `Option<...>` layers (a nullable field the server may leave out has two)
        let mut rest = t.as_str();
        let mut pattern = quote! { r };
        while let Some(inner) = rest.strip_prefix("::std::option::Option<") {
            rest = inner;
            pattern = quote! { ::core::option::Option::Some(#pattern) };
        }
        let visit = if rest.starts_with("::std::vec::Vec<") {
            quote! { for r in r.iter_mut() { f(r); } }
        } else {
            quote! { f(r); }
        };
        arms.push(quote! {
            #json => {
                #[allow(irrefutable_let_patterns)]
                if let #pattern = &mut self.#id { #visit }
                true
            }
        });
    }
    if arms.is_empty() {
        return Ok(quote! {});
    }
    Ok(quote! {
        fn visit_related_mut(
            &mut self,
            field: &str,
            f: &mut dyn FnMut(&mut dyn crate::RelatedSlot),
        ) -> bool {
            match field {
                #(#arms)*
                _ => false,
            }
        }
    })
}

/// `impl Model` for the record type: its shapes, query enums, metadata and id.
fn model_impl(api: &Api, m: &Model, type_fields: &TypeFields) -> Result<TokenStream, String> {
    let ty = format_ident!("{}", m.schema);
    let new_ty = format_ident!("{}", m.new_name());
    let patch_ty = format_ident!("{}", m.patch_name());
    let filter_ty = format_ident!("{}Filter", m.schema);
    let sort_ty = format_ident!("{}Sort", m.schema);
    let include_ty = format_ident!("{}Include", m.schema);
    let meta_ident = meta_ident(m);
    let id_field = m
        .fields
        .iter()
        .find(|f| f.json == "id")
        .ok_or_else(|| format!("{}: no id field", m.schema))?;
    if !id_field.response_required {
        return Err(format!("{}: `id` must be always returned", m.schema));
    }
    let id_rust = format_ident!("{}", id_field.rust);
    let id_ty = match m.id {
        IdKind::Uuid => quote! { ::uuid::Uuid },
        IdKind::Integer => quote! { i64 },
    };
    let approval_ty = match &m.approval {
        Some(a) => {
            let t = format_ident!("{}", a.schema);
            quote! { crate::types::#t }
        }
        None => quote! { crate::model::NotApprovalGated },
    };
    let visit_related = visit_related(api, m, type_fields)?;
    Ok(quote! {
        impl crate::Model for crate::types::#ty {
            type Id = #id_ty;
            type New = crate::types::#new_ty;
            type Patch = crate::types::#patch_ty;
            type Filter = #filter_ty;
            type Sort = #sort_ty;
            type Include = #include_ty;
            type Approval = #approval_ty;
            const META: &'static crate::meta::ModelMeta = &#meta_ident;
            fn record_id(&self) -> Self::Id { self.#id_rust }
            #visit_related
        }
    })
}

/// `Validate` for the create and patch shapes.
fn validate_impls(m: &Model) -> TokenStream {
    let new_ty = format_ident!("{}", m.new_name());
    let patch_ty = format_ident!("{}", m.patch_name());
    let meta_ident = meta_ident(m);
    quote! {
        impl crate::validate::Validate for crate::types::#new_ty {
            const MODEL: &'static crate::meta::ModelMeta = &#meta_ident;
            const SHAPE: crate::validate::Shape = crate::validate::Shape::Create;
        }
        impl crate::validate::Validate for crate::types::#patch_ty {
            const MODEL: &'static crate::meta::ModelMeta = &#meta_ident;
            const SHAPE: crate::validate::Shape = crate::validate::Shape::Patch;
        }
    }
}

/// Logs: `entry_details()`, the entries' payloads typed by the log's
/// selector; and, for a log with an `add_entry` action, `LogModel` (the
/// action's body and the entries' payload group).
fn entry_methods(api: &Api, m: &Model) -> Result<TokenStream, String> {
    let ty = format_ident!("{}", m.schema);
    let mut items = Vec::new();
    let entry_slots: Vec<_> = m
        .details
        .iter()
        .filter_map(|slot| Some((slot, slot.content.split_once("[].")?)))
        .collect();
    for (slot, (list, inner)) in &entry_slots {
        let list_id = format_ident!("{}", names::field(list));
        let inner_id = format_ident!("{}", names::field(inner));
        let tag_id = format_ident!("{}", names::field(&slot.tag));
        let group_ty = format_ident!("{}Details", slot.group);
        let d = format!(
            "The typed `{inner}` of every entry in `{list}`, chosen by the log's `{}` (an entry that does not fit is `Unknown`).",
            slot.tag
        );
        items.push(quote! {
            impl crate::types::#ty {
                #[doc = #d]
                pub fn entry_details(&self) -> ::std::vec::Vec<crate::details::#group_ty> {
                    let type_name = self.#tag_id.to_string();
                    self.#list_id
                        .iter()
                        .map(|e| crate::details::#group_ty::from_raw_parts(
                            &type_name,
                            crate::RawJson::from_serialize(&e.#inner_id)
                                .unwrap_or_else(|_| crate::RawJson::null()),
                        ))
                        .collect()
                }
            }
        });
    }
    let path = m.path();
    let add_entry = api
        .ops_of(&path)
        .find(|o| o.action.as_deref() == Some("add_entry"));
    if let Some(op) = add_entry {
        let [(slot, _)] = entry_slots.as_slice() else {
            return Err(format!(
                "{}: an add_entry action needs exactly one x-brainstem-details slot on a list's entries, not {}",
                m.schema,
                entry_slots.len()
            ));
        };
        let body = op
            .body
            .as_deref()
            .ok_or_else(|| format!("{}: the add_entry action has no request body schema", op.id))?;
        let body_ty = format_ident!("{}", body);
        let group_ty = format_ident!("{}Details", slot.group);
        items.push(quote! {
            impl crate::model::LogModel for crate::types::#ty {
                type EntryInput = crate::types::#body_ty;
                type Details = crate::details::#group_ty;
                fn entry_details(&self) -> ::std::vec::Vec<Self::Details> {
                    <crate::types::#ty>::entry_details(self)
                }
            }
        });
    }
    Ok(quote! { #(#items)* })
}

/// Everything `models.rs` holds for one model.
fn model_items(
    spec: &Value,
    api: &Api,
    m: &Model,
    type_fields: &TypeFields,
) -> Result<TokenStream, String> {
    let meta = model_meta(api, m);
    let filter = filter_enum(spec, api, m);
    let fields = filter_fields(spec, api, m);
    let sort = sort_enum(m);
    let include = include_enum(api, m);
    let model = model_impl(api, m, type_fields)?;
    let validate = validate_impls(m);
    let entries = entry_methods(api, m)?;
    Ok(quote! {
        #entries
        #meta
        #filter
        #fields
        #sort
        #include
        #model
        #validate
    })
}

/// `match` arms mapping operations to values, grouped by value (operations
/// sharing one are one or-pattern), in first-seen order; the largest group
/// becomes the `_` arm when `default` allows it.
fn grouped_arms(
    api: &Api,
    value: impl Fn(&super::spec::Op) -> (String, TokenStream),
    default: bool,
) -> Vec<TokenStream> {
    let mut groups: Vec<(String, TokenStream, Vec<proc_macro2::Ident>)> = Vec::new();
    for o in &api.ops {
        let (key, tokens) = value(o);
        match groups.iter_mut().find(|(k, _, _)| *k == key) {
            Some(g) => g.2.push(op_variant(api, &o.id)),
            None => groups.push((key, tokens, vec![op_variant(api, &o.id)])),
        }
    }
    let largest = groups
        .iter()
        .enumerate()
        .max_by_key(|(i, g)| (g.2.len(), std::cmp::Reverse(*i)))
        .map(|(i, _)| i)
        .filter(|_| default && groups.len() > 1);
    let mut arms = Vec::new();
    let mut fallback = None;
    for (i, (_, tokens, variants)) in groups.into_iter().enumerate() {
        if Some(i) == largest {
            fallback = Some(quote! { _ => #tokens, });
        } else {
            arms.push(quote! { #(Self::#variants)|* => #tokens, });
        }
    }
    arms.extend(fallback);
    arms
}

/// `Operation`: one variant per operationId, with what the spec says of each.
fn operations(api: &Api) -> Result<TokenStream, String> {
    let mut seen = std::collections::BTreeMap::new();
    for o in &api.ops {
        if let Some(other) = seen.insert(op_variant(api, &o.id).to_string(), &o.id) {
            return Err(format!(
                "operationIds {other} and {} give the same Rust name",
                o.id
            ));
        }
    }
    let variants = api.ops.iter().map(|o| {
        let v = op_variant(api, &o.id);
        let d = format!(" `{} {}` (`{}`).", o.method, o.path, o.id);
        quote! { #[doc = #d] #v }
    });
    let all = api.ops.iter().map(|o| op_variant(api, &o.id));
    let ids = api.ops.iter().map(|o| {
        let (v, id) = (op_variant(api, &o.id), &o.id);
        quote! { Self::#v => #id, }
    });
    let method = grouped_arms(
        api,
        |o| {
            let m = format_ident!("{}", names::pascal(&o.method.to_lowercase()));
            (o.method.clone(), quote! { crate::meta::HttpMethod::#m })
        },
        true,
    );
    let path = grouped_arms(
        api,
        |o| {
            let p = &o.path;
            (p.clone(), quote! { #p })
        },
        false,
    );
    let portals = grouped_arms(
        api,
        |o| {
            let ps = o.portals.iter().map(|p| match p.as_str() {
                "public" => quote! { crate::Portal::Public },
                _ => quote! { crate::Portal::Private },
            });
            (o.portals.join(","), quote! { &[#(#ps),*] })
        },
        true,
    );
    let model = grouped_arms(
        api,
        |o| (format!("{:?}", o.model), opt_str(o.model.as_deref())),
        true,
    );
    let action = grouped_arms(
        api,
        |o| (format!("{:?}", o.action), opt_str(o.action.as_deref())),
        true,
    );
    let count = api.ops.len();
    Ok(quote! {
        /// Every operation of the API: one variant per `operationId` of the
        /// spec, in operationId order. Per model, [`ModelMeta`](crate::meta::ModelMeta)
        /// names its operations by role (`list`, `create`, ...).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Operation { #(#variants,)* }
        impl Operation {
            /// Every operation, in operationId order.
            pub const ALL: [Operation; #count] = [#(Self::#all),*];
            /// The spec's `operationId` (`session_list`).
            pub const fn id(self) -> &'static str {
                match self { #(#ids)* }
            }
            /// The HTTP method.
            pub const fn method(self) -> crate::meta::HttpMethod {
                match self { #(#method)* }
            }
            /// The path template (`/api/{portal}/stem/session/{id}/`).
            pub const fn path(self) -> &'static str {
                match self { #(#path)* }
            }
            /// The portals the operation is allowed on (empty: no portal in the path).
            pub const fn portals(self) -> &'static [crate::Portal] {
                match self { #(#portals)* }
            }
            /// The model the operation belongs to (`app/model`), if any.
            pub const fn model(self) -> ::core::option::Option<&'static str> {
                match self { #(#model)* }
            }
            /// For actions: the action name (`accept`, `add_entry`, ...).
            pub const fn action(self) -> ::core::option::Option<&'static str> {
                match self { #(#action)* }
            }
        }
    })
}

/// `models.rs`: the lookup rule, versions, every model's metadata and query
/// enums, `Model` and `Validate` impls, and the operations.
pub fn models(spec: &Value, api: &Api, type_fields: &TypeFields) -> Result<TokenStream, String> {
    let mut items = Vec::new();
    for m in &api.models {
        items.push(model_items(spec, api, m, type_fields)?);
    }
    let metas = api.models.iter().map(meta_ident);
    let names: Vec<&String> = api.models.iter().map(|m| &m.url).collect();
    let tys: Vec<_> = api
        .models
        .iter()
        .map(|m| format_ident!("{}", m.schema))
        .collect();
    let version = &api.version;
    let rev = &api.docs_revision;
    let count = api.models.len();
    let operations = operations(api)?;
    let lookup_rule = lookup_rule();
    Ok(quote! {
        #lookup_rule
        /// The schema version this crate was generated from (`info.version` of the spec).
        pub const SCHEMA_VERSION: &str = #version;
        /// The BrainSTEM documentation revision the spec describes.
        pub const DOCS_REVISION: &str = #rev;
        /// Every model of the API, in URL-name order.
        pub static MODELS: [&crate::meta::ModelMeta; #count] = [#(&#metas),*];
        /// Run `visitor` with the record type of the model whose URL name is
        /// `name` (`session`, `dataacquisition`, ...); `None` for an unknown name.
        ///
        /// This is how code that only knows a model's name at run time (the
        /// command-line tool, the stand-in server) reaches its typed shapes.
        pub fn with_model<V: crate::ModelVisitor>(name: &str, visitor: V) -> ::core::option::Option<V::Output> {
            match name {
                #(#names => ::core::option::Option::Some(visitor.visit::<crate::types::#tys>()),)*
                _ => ::core::option::Option::None,
            }
        }
        #operations
        #(#items)*
    })
}

/// The name of a model's accessor on the client (`client.sessions()`): its
/// schema name in snake case, made plural the way the spec's envelope keys
/// are (the ending that turns `one` into `many`: `inventory` -> `inventories`,
/// `species` stays `species`).
pub fn accessor_name(m: &Model) -> String {
    let base = names::field(&m.schema);
    let common = m
        .one
        .chars()
        .zip(m.many.chars())
        .take_while(|(a, b)| a == b)
        .count();
    let drop: String = m.one.chars().skip(common).collect();
    let add: String = m.many.chars().skip(common).collect();
    match base.strip_suffix(drop.as_str()) {
        Some(stem) => names::field(&format!("{stem}{add}")),
        None => names::field(&m.many),
    }
}

/// The typed `load_<model>` of the Python tool and its `by_<keyword>` methods.
fn loader_items(spec: &Value, api: &Api, m: &Model) -> Option<(TokenStream, TokenStream)> {
    let l = m.loader.as_ref()?;
    let ty = format_ident!("{}", m.schema);
    let load_fn = format_ident!("load_{}", m.url);
    let includes = l.default_include.join(", ");
    let load_doc = format!(
        "`{}` records the way the official Python tool's `load_{}` loads them: a list request with its default includes ({}) and its keyword filters as `by_<keyword>` methods.",
        m.url,
        m.url,
        if includes.is_empty() {
            "none"
        } else {
            &includes
        }
    );
    let mut methods = Vec::new();
    for (keyword, key) in &l.filters {
        let field_name = key.split('.').next().unwrap_or(key);
        let method = format_ident!("by_{}", names::field(keyword));
        let (vt, note) = match m.fields.iter().find(|f| f.json == field_name) {
            Some(f) => (value_type(spec, m, f, api), String::new()),
            None => (
                quote! { ::std::string::String },
                format!(
                    " (`{field_name}` is not a documented field of `{}`: the server may refuse it)",
                    m.url
                ),
            ),
        };
        let d = format!(
            "Keyword `{keyword}` of `load_{}`: `filter{{{key}}}`{note}.",
            m.url
        );
        methods.push(quote! {
            #[doc = #d]
            pub fn #method(self, value: #vt) -> Self {
                self.by(#keyword, value)
            }
        });
    }
    let by_methods = quote! {
        impl<K: crate::client::RecordKind> crate::client::ListRequest<crate::types::#ty, K> {
            #(#methods)*
        }
    };
    let load = quote! {
        #[doc = #load_doc]
        pub fn #load_fn(&self) -> crate::client::ListRequest<crate::types::#ty> {
            self.api::<crate::types::#ty>().load()
        }
    };
    Some((by_methods, load))
}

/// `client_api.rs`, included by the client module only: one accessor per
/// model (async and blocking), the typed loaders, `ACCESSORS`, and `CODECS`
/// (each model's decoders, instantiated in the SDK crate).
pub fn client_api(spec: &Value, api: &Api) -> Result<TokenStream, String> {
    let mut seen = std::collections::BTreeMap::new();
    let mut accessors = Vec::new();
    let mut blocking = Vec::new();
    let mut by_methods = Vec::new();
    let mut loads = Vec::new();
    let mut blocking_loads = Vec::new();
    let mut table = Vec::new();
    let mut codecs = Vec::new();
    for m in &api.models {
        let name = accessor_name(m);
        if let Some(other) = seen.insert(name.clone(), &m.schema) {
            return Err(format!(
                "{other} and {} would both get the client accessor `{name}`",
                m.schema
            ));
        }
        let method = format_ident!("{}", name);
        let ty = format_ident!("{}", m.schema);
        let d = format!(
            " The API of [`{0}`](crate::types::{0}) records: `client.api::<{0}>()`.",
            m.schema
        );
        accessors.push(quote! {
            #[doc = #d]
            pub fn #method(&self) -> crate::client::Api<crate::types::#ty> {
                self.api::<crate::types::#ty>()
            }
        });
        let d = format!(
            " The blocking API of [`{0}`](crate::types::{0}) records.",
            m.schema
        );
        blocking.push(quote! {
            #[doc = #d]
            pub fn #method(&self) -> crate::client::blocking::Api<crate::types::#ty> {
                self.api::<crate::types::#ty>()
            }
        });
        let url = &m.url;
        table.push(quote! { (#name, #url) });
        codecs.push(quote! { &crate::client::codec::Codec::<crate::types::#ty>::NEW });
        if let Some((by, load)) = loader_items(spec, api, m) {
            by_methods.push(by);
            loads.push(load);
            let load_fn = format_ident!("load_{}", m.url);
            let d = format!(
                " The blocking `load_{0}` (see [`Client::load_{0}`](crate::client::Client::load_{0})).",
                m.url
            );
            blocking_loads.push(quote! {
                #[doc = #d]
                pub fn #load_fn(&self) -> crate::client::blocking::List<crate::types::#ty> {
                    self.api::<crate::types::#ty>().load()
                }
            });
        }
    }
    let n = proc_macro2::Literal::usize_unsuffixed(codecs.len());
    Ok(quote! {
        impl crate::client::Client {
            #(#accessors)*
            #(#loads)*
        }
        #[cfg(feature = "blocking")]
        impl crate::client::blocking::Client {
            #(#blocking)*
            #(#blocking_loads)*
        }
        #(#by_methods)*
        /// Every accessor: (method name, the model's URL name).
        pub const ACCESSORS: &[(&str, &str)] = &[#(#table),*];
        /// Every model's decoders (see `crate::client::codec`): a `static`,
        /// so that they are compiled in this crate, not in each caller's.
        pub(crate) static CODECS: [&(dyn ::core::any::Any + ::core::marker::Send + ::core::marker::Sync); #n] = [#(#codecs),*];
    })
}

/// The lookup rule as a generated function, so code that meets a field the
/// metadata does not list (the stand-in server's approval-only fields) asks
/// the same rule the filter enums were made from.
fn lookup_rule() -> TokenStream {
    use super::lookups::{FilterClass, lookups};
    let kinds = [
        ("Uuid", FilterClass::Id),
        ("Text", FilterClass::Text),
        ("Choice", FilterClass::Choice),
        ("Integer", FilterClass::Ordered),
        ("Number", FilterClass::Ordered),
        ("Date", FilterClass::Ordered),
        ("DateTime", FilterClass::Ordered),
        ("Boolean", FilterClass::Boolean),
        ("Json", FilterClass::Json),
    ];
    let mut arms = Vec::new();
    for (kind, class) in kinds {
        let k = format_ident!("{}", kind);
        for many in [false, true] {
            for related in [false, true] {
                let lks = lookups(class, many, related);
                arms.push(quote! {
                    (crate::meta::FieldKind::#k, #many, #related) => &[#(#lks),*],
                });
            }
        }
    }
    quote! {
        /// The dynamic-rest filter lookups a field of `kind` accepts (`""` is
        /// the exact match): the rule every `FieldMeta::lookups` and filter enum
        /// was generated from.
        pub fn filter_lookups(
            kind: crate::meta::FieldKind,
            many: bool,
            related: bool,
        ) -> &'static [&'static str] {
            match (kind, many, related) {
                #(#arms)*
            }
        }
    }
}

/// One schema group of typed payloads, read from the spec.
pub struct Group {
    pub name: String,
    pub tag: String,
    pub content: String,
    /// (type value, schema version, component name)
    pub types: Vec<(String, String, String)>,
}

impl Group {
    pub fn enum_name(&self) -> String {
        format!("{}Details", self.name)
    }
}

/// The schema groups, from the `<Group>Type` enums and the `x-brainstem-schema`
/// components; tag/content from the models that use them.
pub fn groups(spec: &Value, api: &Api) -> Vec<Group> {
    let Some(schemas) = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return vec![];
    };
    let mut out = Vec::new();
    for s in schemas.values() {
        let Some(group) = s.get("x-brainstem-details-group").and_then(Value::as_str) else {
            continue;
        };
        if s.get("enum").is_none() {
            continue;
        }
        let order: Vec<String> = s["enum"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let mut types = Vec::new();
        for t in &order {
            let id = format!("{group}/{t}");
            if let Some((name, c)) = schemas
                .iter()
                .find(|(_, c)| c.get("x-brainstem-schema").and_then(Value::as_str) == Some(&id))
            {
                let version = c
                    .get("x-brainstem-schema-version")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                types.push((t.clone(), version, name.clone()));
            }
        }
        let slot = api
            .models
            .iter()
            .flat_map(|m| m.details.iter())
            .find(|d| d.group == group);
        let (tag, content) = match slot {
            Some(d) => (
                d.tag.clone(),
                d.content
                    .rsplit('.')
                    .next()
                    .unwrap_or(&d.content)
                    .to_string(),
            ),
            None => ("type".to_string(), "details".to_string()),
        };
        out.push(Group {
            name: group.to_string(),
            tag,
            content,
            types,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The constructor of a struct typify generated, with its required fields
/// named: `X::new(XRequired { a, b })`. A required field left out of the
/// literal is a compile error naming it, and a field that becomes required
/// breaks callers at the call site instead of shifting positional
/// arguments. Without required fields, `X::new()`. For a tolerant shape
/// (`optional_bits` is the set of its optional fields in `missing`), what the
/// constructor leaves out is marked missing, so it is not sent until set.
/// `docs` gives each field's doc attributes, copied onto the required
/// struct's fields.
pub fn constructor(
    ty: &proc_macro2::Ident,
    fields: &[(String, bool, TokenStream)],
    docs: &FieldDocs,
    what: &str,
    optional_bits: Option<u64>,
) -> TokenStream {
    let mut required = Vec::new();
    let mut names_req = Vec::new();
    let mut inits = Vec::new();
    for (rust, is_required, t) in fields {
        let id = format_ident!("{}", rust);
        if *is_required {
            let doc = docs
                .get(&(ty.to_string(), rust.clone()))
                .cloned()
                .unwrap_or_default();
            required.push(quote! { #(#doc)* pub #id: #t });
            names_req.push(id.clone());
            inits.push(quote! { #id });
        } else {
            inits.push(quote! { #id: ::core::default::Default::default() });
        }
    }
    if let Some(bits) = optional_bits {
        let bits = super::tolerant::bits_literal(bits);
        inits.push(
            quote! { missing: ::brainstem::MissingFields::from_bits(Self::FIELD_NAMES, #bits) },
        );
        inits.push(quote! { unknown: ::brainstem::UnknownFields::new() });
    }
    if names_req.is_empty() {
        let d = format!("{what} with every optional field left out.");
        return quote! {
            impl #ty {
                #[doc = #d]
                pub fn new() -> Self {
                    Self { #(#inits,)* }
                }
            }
        };
    }
    let req_ty = format_ident!("{}Required", ty);
    let listed = names_req
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let d_struct = format!(
        "The required fields of [`{ty}`] ({listed}), by name: the argument of [`{ty}::new`]. \
         Leaving one out is a compile error naming it."
    );
    let d_new = format!(
        "{what} from its required fields ({listed}), named in a [`{req_ty}`]; every optional \
         field is left out (set them afterwards)."
    );
    quote! {
        #[doc = #d_struct]
        #[derive(Clone, Debug, PartialEq)]
        pub struct #req_ty {
            #(#required,)*
        }
        impl #ty {
            #[doc = #d_new]
            pub fn new(required: #req_ty) -> Self {
                let #req_ty { #(#names_req),* } = required;
                Self { #(#inits,)* }
            }
        }
        impl ::core::convert::From<#req_ty> for #ty {
            fn from(required: #req_ty) -> Self {
                Self::new(required)
            }
        }
    }
}

/// The doc attributes of each field of the structs in a file:
/// (struct, field) -> `#[doc]` attributes.
pub type FieldDocs = std::collections::BTreeMap<(String, String), Vec<syn::Attribute>>;

/// [`FieldDocs`] of every named struct among `items`.
pub fn field_docs(items: &[syn::Item]) -> FieldDocs {
    let mut out = FieldDocs::new();
    for item in items {
        let syn::Item::Struct(st) = item else {
            continue;
        };
        for f in st.fields.iter() {
            let Some(id) = &f.ident else { continue };
            let docs: Vec<syn::Attribute> = f
                .attrs
                .iter()
                .filter(|a| a.path().is_ident("doc"))
                .cloned()
                .collect();
            out.insert((st.ident.to_string(), id.to_string()), docs);
        }
    }
    out
}

/// The constructors of the create shapes (`NewSession::new`) and of the
/// typed payloads, written into the types file next to their structs.
pub fn constructors(
    api: &Api,
    groups: &[Group],
    type_fields: &TypeFields,
    docs: &FieldDocs,
    optional_bits: &std::collections::BTreeMap<String, u64>,
) -> Result<TokenStream, String> {
    let mut items = Vec::new();
    for m in &api.models {
        let fields = type_fields
            .get(&m.new_name())
            .ok_or_else(|| format!("typify produced no {}", m.new_name()))?;
        let ty = format_ident!("{}", m.new_name());
        items.push(constructor(&ty, fields, docs, "A create shape", None));
    }
    for g in groups {
        for (t, _, comp) in &g.types {
            let name = names::pascal(comp);
            if let Some(fields) = type_fields.get(&name) {
                let ty = format_ident!("{}", name);
                items.push(constructor(
                    &ty,
                    fields,
                    docs,
                    &format!("A `{t}` payload"),
                    optional_bits.get(&name).copied(),
                ));
            }
        }
    }
    Ok(quote! { #(#items)* })
}

/// The typed payload enums, their `From` impls and the payload constructors.
pub fn details(groups: &[Group], type_fields: &TypeFields) -> TokenStream {
    let mut items = Vec::new();
    for g in groups {
        let name = format_ident!("{}", g.enum_name());
        let (group, tag, content) = (&g.name, &g.tag, &g.content);
        let variant_names = names::variants(
            &g.types
                .iter()
                .map(|(t, _, _)| t.clone())
                .collect::<Vec<_>>(),
        );
        let mut entries = Vec::new();
        for ((t, version, comp), v) in g.types.iter().zip(&variant_names) {
            let v = format_ident!("{}", v);
            let c = format_ident!("{}", names::pascal(comp));
            entries.push(quote! { #v => (#t, #version, crate::types::#c) });
            if type_fields.contains_key(&names::pascal(comp)) {
                items.push(quote! {
                    impl ::core::convert::From<crate::types::#c> for #name {
                        fn from(p: crate::types::#c) -> Self { Self::#v(p) }
                    }
                    impl ::core::convert::From<crate::types::#c> for crate::details::Payload<#name> {
                        fn from(p: crate::types::#c) -> Self { crate::details::Payload(#name::#v(p)) }
                    }
                });
            }
        }
        let d = format!(
            "The typed `{content}` of the {group} schema group, chosen by `{tag}`: serializes as `{{\"{tag}\": \"<Type>\", \"{content}\": {{...}}}}`."
        );
        items.push(quote! {
            crate::details_group! {
                #[doc = #d]
                #name {
                    group: #group,
                    tag: #tag,
                    content: #content,
                    types: [#(#entries,)*]
                }
            }
        });
    }
    quote! { #(#items)* }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    fn pinned() -> Value {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let text = std::fs::read_to_string(crate::spec_path(&root)).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn accessors(spec: &Value) -> Vec<(String, String)> {
        let api = crate::spec::Api::read(spec).unwrap();
        api.models
            .iter()
            .map(|m| (m.schema.clone(), super::accessor_name(m)))
            .collect()
    }

    #[test]
    fn accessor_names_follow_the_envelope_keys() {
        let names = accessors(&pinned());
        for (schema, want) in [
            ("Session", "sessions"),
            ("BehavioralAssay", "behavioral_assays"),
            ("ConsumableStock", "consumable_stocks"),
            ("Inventory", "inventories"),
            ("RegulatoryAuthority", "regulatory_authorities"),
            ("Species", "species"),
            ("Equipment", "equipment"),
            ("SessionDataStorage", "session_data_storages"),
        ] {
            let got = names.iter().find(|(s, _)| s == schema).map(|(_, a)| a);
            assert_eq!(got.map(String::as_str), Some(want), "{schema}");
        }
    }

    #[test]
    fn a_model_added_to_the_spec_gets_an_accessor() {
        let mut spec = pinned();
        spec["components"]["schemas"]["WidgetBox"] = json!({
            "type": "object",
            "description": "A model only this test knows.",
            "x-brainstem-model": "stem/widgetbox",
            "x-brainstem-envelope": {"one": "widget_box", "many": "widget_boxes"},
            "x-brainstem-id": "uuid",
            "required": ["id", "name"],
            "properties": {
                "id": {"type": "string", "format": "uuid", "readOnly": true},
                "name": {"type": "string", "maxLength": 10}
            }
        });
        let names = accessors(&spec);
        assert!(names.contains(&("WidgetBox".into(), "widget_boxes".into())));
        let files = crate::generate(&spec.to_string()).unwrap();
        let api = &files.iter().find(|(n, _)| *n == "client_api.rs").unwrap().1;
        assert!(
            api.contains("pub fn widget_boxes(")
                && api.contains("crate::client::Api<crate::types::WidgetBox>")
                && api.contains("(\"widget_boxes\", \"widgetbox\")"),
            "{api}"
        );
        let models = &files.iter().find(|(n, _)| *n == "models.rs").unwrap().1;
        assert!(!models.contains("crate::client"), "models.rs stays core");
    }

    #[test]
    fn two_models_with_one_accessor_name_fail_the_build() {
        let mut spec = pinned();
        let mut twin = spec["components"]["schemas"]["Session"].clone();
        twin["x-brainstem-model"] = json!("stem/session_twin");
        twin["x-brainstem-envelope"] = json!({"one": "session", "many": "sessions"});
        spec["components"]["schemas"]["session"] = twin;
        let api = crate::spec::Api::read(&spec).unwrap();
        let err = super::client_api(&spec, &api).unwrap_err();
        assert!(err.contains("`sessions`"), "{err}");
    }
}
