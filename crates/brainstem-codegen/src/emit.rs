//! The code we generate ourselves, next to typify's types: open enums, the
//! model metadata and `Model` impls, the per-model filter / sort / include
//! enums, constructors for the create shapes, and `Validate` impls.

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

fn value_type(spec: &Value, m: &Model, f: &Field, api: &Api) -> TokenStream {
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
        let variants = names::variants(&e.values);
        let pairs = variants.iter().zip(&e.values).map(|(v, s)| {
            let v = format_ident!("{}", v);
            quote! { #v => #s }
        });
        let d = e.description.clone().unwrap_or_else(|| {
            format!(
                "One of the values the schema lists for `{}`; other values parse as `Unknown`.",
                e.name
            )
        });
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

struct ModelCode {
    tokens: TokenStream,
    meta_ident: proc_macro2::Ident,
}

fn model_code(
    spec: &Value,
    api: &Api,
    m: &Model,
    type_fields: &TypeFields,
) -> Result<ModelCode, String> {
    let ty = format_ident!("{}", m.schema);
    let new_ty = format_ident!("{}", m.new_name());
    let patch_ty = format_ident!("{}", m.patch_name());
    let filter_ty = format_ident!("{}Filter", m.schema);
    let sort_ty = format_ident!("{}Sort", m.schema);
    let include_ty = format_ident!("{}Include", m.schema);
    let meta_ident = format_ident!("{}", m.url.to_uppercase());
    let path = m.path();

    // --- filters
    let mut filter_variants = Vec::new();
    let mut filter_arms = Vec::new();
    for f in &m.fields {
        let vt = value_type(spec, m, f, api);
        for lk in lookups(f) {
            let vname = format_ident!(
                "{}{}",
                names::pascal(&f.json),
                if lk.is_empty() {
                    String::new()
                } else {
                    names::pascal(lk)
                }
            );
            let key = &f.json;
            let lk_tok = if lk.is_empty() {
                quote! { ::core::option::Option::None }
            } else {
                quote! { ::core::option::Option::Some(#lk) }
            };
            let shown = if lk.is_empty() {
                format!("`filter{{{key}}}`: equal to the value.")
            } else {
                format!("`filter{{{key}.{lk}}}`.")
            };
            let d = doc(&shown);
            match *lk {
                "in" => {
                    filter_variants.push(quote! { #d #vname(::std::vec::Vec<#vt>) });
                    filter_arms.push(quote! {
                        Self::#vname(v) => crate::query::FilterClause::new(#key, #lk_tok, v.iter().map(crate::query::QueryValue::query_value).collect())
                    });
                }
                "range" => {
                    filter_variants.push(quote! { #d #vname(#vt, #vt) });
                    filter_arms.push(quote! {
                        Self::#vname(a, b) => crate::query::FilterClause::new(#key, #lk_tok, ::std::vec![crate::query::QueryValue::query_value(a), crate::query::QueryValue::query_value(b)])
                    });
                }
                "isnull" => {
                    filter_variants.push(quote! { #d #vname(bool) });
                    filter_arms.push(quote! {
                        Self::#vname(v) => crate::query::FilterClause::new(#key, #lk_tok, ::std::vec![crate::query::QueryValue::query_value(v)])
                    });
                }
                _ => {
                    filter_variants.push(quote! { #d #vname(#vt) });
                    filter_arms.push(quote! {
                        Self::#vname(v) => crate::query::FilterClause::new(#key, #lk_tok, ::std::vec![crate::query::QueryValue::query_value(v)])
                    });
                }
            }
        }
    }
    let filter_doc = format!(
        "The filters `{path}` accepts: one variant per (field, lookup) pair, with a typed value. Negate one with [`Filter::not`](crate::query::Filter::not)."
    );
    let filter_enum = if filter_variants.is_empty() {
        quote! {
            #[doc = #filter_doc]
            #[derive(Clone, Debug, PartialEq)]
            pub enum #filter_ty {}
            impl crate::query::Filter for #filter_ty {
                fn clause(&self) -> crate::query::FilterClause { match *self {} }
            }
        }
    } else {
        quote! {
            #[doc = #filter_doc]
            #[derive(Clone, Debug, PartialEq)]
            pub enum #filter_ty { #(#filter_variants,)* }
            impl crate::query::Filter for #filter_ty {
                fn clause(&self) -> crate::query::FilterClause {
                    match self { #(#filter_arms,)* }
                }
            }
        }
    };

    // --- sort and include: enums of field names
    let sortable: Vec<&Field> = m.fields.iter().filter(|f| f.sortable).collect();
    let sort_enum = field_enum(
        &sort_ty,
        quote! { SortField },
        &format!("The fields `{path}` can be sorted by; `.asc()` / `.desc()` make a sort key."),
        sortable
            .iter()
            .map(|f| (f.json.as_str(), format!("Sort by `{}`.", f.json)))
            .collect(),
    );
    let includable: Vec<&Field> = m
        .fields
        .iter()
        .filter(|f| {
            f.includable
                && f.related
                    .as_deref()
                    .is_some_and(|t| api.model_by_path(t).is_some())
        })
        .collect();
    let include_enum = field_enum(
        &include_ty,
        quote! { IncludeField },
        &format!("The relations of `{path}` that `include[]` can embed."),
        includable
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
    );

    // --- field metadata
    let field_meta = (m.fields.iter().enumerate())
        .map(|(i, f)| super::schema_emit::field_meta(api, &m.schema, i, f));
    let ops = api.ops_of(&path).map(|o| {
        let id = &o.id;
        let method = &o.method;
        let p = &o.path;
        let portals = o.portals.iter().map(|p| match p.as_str() {
            "public" => quote! { crate::Portal::Public },
            _ => quote! { crate::Portal::Private },
        });
        let action = opt_str(o.action.as_deref());
        quote! {
            crate::meta::OpMeta { id: #id, method: #method, path: #p, portals: &[#(#portals),*], action: #action }
        }
    });
    let approval = match &m.approval {
        Some(a) => {
            let a = super::schema_emit::approval_meta(api, a);
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
    let id_ty = match m.id {
        IdKind::Uuid => quote! { ::uuid::Uuid },
        IdKind::Integer => quote! { i64 },
    };
    let (schema_s, app, url, one, many, description) =
        (&m.schema, &m.app, &m.url, &m.one, &m.many, &m.description);
    let meta_doc = format!("Metadata of `{path}`: its URL, envelope keys, fields and operations.");

    // --- record id, approval type
    let id_field = m
        .fields
        .iter()
        .find(|f| f.json == "id")
        .ok_or_else(|| format!("{}: no id field", m.schema))?;
    if !id_field.response_required {
        return Err(format!("{}: `id` must be always returned", m.schema));
    }
    let id_rust = format_ident!("{}", id_field.rust);
    let approval_ty = match &m.approval {
        Some(a) => {
            let t = format_ident!("{}", a.schema);
            quote! { crate::types::#t }
        }
        None => quote! { crate::model::NotApprovalGated },
    };

    // --- constructor for the create shape
    let new_fields = type_fields
        .get(&m.new_name())
        .ok_or_else(|| format!("typify produced no {}", m.new_name()))?;
    let new_ctor = constructor(
        &quote! { crate::types::#new_ty },
        new_fields,
        "A create shape",
        None,
    );

    // --- relation fields, for the client's include handling
    let record_fields = type_fields
        .get(&m.schema)
        .ok_or_else(|| format!("typify produced no {}", m.schema))?;
    let mut relation_arms = Vec::new();
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
        let body = quote! {
            #[allow(irrefutable_let_patterns)]
            if let #pattern = &mut self.#id { #visit }
        };
        relation_arms.push(quote! { #json => { #body true } });
    }
    let visit_related = if relation_arms.is_empty() {
        quote! {}
    } else {
        quote! {
            fn visit_related_mut(
                &mut self,
                field: &str,
                f: &mut dyn FnMut(&mut dyn crate::RelatedSlot),
            ) -> bool {
                match field {
                    #(#relation_arms)*
                    _ => false,
                }
            }
        }
    };

    // --- logs: entries carry payloads typed by the log's selector
    let mut entry_methods = Vec::new();
    for slot in &m.details {
        let Some((list, inner)) = slot.content.split_once("[].") else {
            continue;
        };
        let list_id = format_ident!("{}", names::field(list));
        let inner_id = format_ident!("{}", names::field(inner));
        let tag_id = format_ident!("{}", names::field(&slot.tag));
        let group_ty = format_ident!("{}Details", slot.group);
        let d = format!(
            "The typed `{inner}` of every entry in `{list}`, chosen by the log's `{}` (an entry that does not fit is `Unknown`).",
            slot.tag
        );
        entry_methods.push(quote! {
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

    // --- the official Python tool's `load_<model>` helpers, typed
    let mut loader_items = Vec::new();
    if let Some(l) = &m.loader {
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
        loader_items.push(quote! {
            #[cfg(feature = "client")]
            impl crate::client::ListRequest<crate::types::#ty> {
                #(#methods)*
            }
            #[cfg(feature = "client")]
            impl crate::client::Client {
                #[doc = #load_doc]
                pub fn #load_fn(&self) -> crate::client::ListRequest<crate::types::#ty> {
                    self.api::<crate::types::#ty>().load()
                }
            }
        });
    }

    let tokens = quote! {
        #(#loader_items)*
        #(#entry_methods)*
        #[doc = #meta_doc]
        pub static #meta_ident: crate::meta::ModelMeta = crate::meta::ModelMeta {
            schema: #schema_s,
            app: #app,
            name: #url,
            one: #one,
            many: #many,
            id: #id_kind,
            description: #description,
            fields: &[#(#field_meta,)*],
            ops: &[#(#ops,)*],
            approval: #approval,
            loader: #loader,
            details: &[#(#details,)*],
        };

        #filter_enum
        #sort_enum
        #include_enum

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

        #new_ctor

        impl crate::validate::Validate for crate::types::#new_ty {
            const MODEL: &'static crate::meta::ModelMeta = &#meta_ident;
            const SHAPE: crate::validate::Shape = crate::validate::Shape::Create;
        }
        impl crate::validate::Validate for crate::types::#patch_ty {
            const MODEL: &'static crate::meta::ModelMeta = &#meta_ident;
            const SHAPE: crate::validate::Shape = crate::validate::Shape::Patch;
        }
    };
    Ok(ModelCode { tokens, meta_ident })
}

/// For each struct typify generated: (rust field, required, type tokens).
pub type TypeFields = std::collections::BTreeMap<String, Vec<(String, bool, TokenStream)>>;

pub fn models(spec: &Value, api: &Api, type_fields: &TypeFields) -> Result<TokenStream, String> {
    let mut items = Vec::new();
    let mut metas = Vec::new();
    for m in &api.models {
        let code = model_code(spec, api, m, type_fields)?;
        items.push(code.tokens);
        metas.push(code.meta_ident);
    }
    let names: Vec<&String> = api.models.iter().map(|m| &m.url).collect();
    let tys: Vec<_> = api
        .models
        .iter()
        .map(|m| format_ident!("{}", m.schema))
        .collect();
    let version = &api.version;
    let rev = &api.docs_revision;
    let count = api.models.len();
    let op_count = api.ops.len();
    let all_ops = api.ops.iter().map(|o| {
        let id = &o.id;
        let method = &o.method;
        let p = &o.path;
        let portals = o.portals.iter().map(|p| match p.as_str() {
            "public" => quote! { crate::Portal::Public },
            _ => quote! { crate::Portal::Private },
        });
        let action = opt_str(o.action.as_deref());
        let model = opt_str(o.model.as_deref());
        quote! {
            (#model, crate::meta::OpMeta { id: #id, method: #method, path: #p, portals: &[#(#portals),*], action: #action })
        }
    });
    let lookup_rule = lookup_rule();
    Ok(quote! {
        #lookup_rule
        /// The schema version this crate was generated from (`info.version` of the spec).
        pub const SCHEMA_VERSION: &str = #version;
        /// The BrainSTEM documentation revision the spec describes.
        pub const DOCS_REVISION: &str = #rev;
        /// Every model of the API, in URL-name order.
        pub static MODELS: [&crate::meta::ModelMeta; #count] = [#(&#metas),*];
        /// Every operation of the API with the model it belongs to (if any), in operationId order.
        pub static OPERATIONS: [(::core::option::Option<&str>, crate::meta::OpMeta); #op_count] = [#(#all_ops),*];
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
        #(#items)*
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

/// A constructor taking the required fields, for a struct typify generated.
/// For a tolerant shape (`optional_bits` is the set of its optional fields in
/// `missing`), what the constructor leaves out is marked missing, so it is
/// not sent until set.
pub fn constructor(
    ty: &TokenStream,
    fields: &[(String, bool, TokenStream)],
    what: &str,
    optional_bits: Option<u64>,
) -> TokenStream {
    let mut args = Vec::new();
    let mut inits = Vec::new();
    let mut names_req = Vec::new();
    for (rust, required, t) in fields {
        let id = format_ident!("{}", rust);
        if *required {
            args.push(quote! { #id: #t });
            inits.push(quote! { #id });
            names_req.push(format!("`{rust}`"));
        } else {
            inits.push(quote! { #id: ::core::default::Default::default() });
        }
    }
    let d = if names_req.is_empty() {
        format!("{what} with every optional field left out.")
    } else {
        format!(
            "{what} from its required fields ({}); every optional field is left out.",
            names_req.join(", ")
        )
    };
    let allow = if args.len() > 6 {
        quote! { #[allow(clippy::too_many_arguments)] }
    } else {
        quote! {}
    };
    if let Some(bits) = optional_bits {
        let bits = super::tolerant::bits_literal(bits);
        inits.push(
            quote! { missing: ::brainstem::MissingFields::from_bits(Self::FIELD_NAMES, #bits) },
        );
        inits.push(quote! { unknown: ::brainstem::UnknownFields::new() });
    }
    quote! {
        impl #ty {
            #[doc = #d]
            #allow
            pub fn new(#(#args),*) -> Self {
                Self { #(#inits,)* }
            }
        }
    }
}

/// The typed payload enums, their `From` impls and the payload constructors.
pub fn details(
    groups: &[Group],
    type_fields: &TypeFields,
    optional_bits: &std::collections::BTreeMap<String, u64>,
) -> TokenStream {
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
            if let Some(fields) = type_fields.get(&names::pascal(comp)) {
                let ty = quote! { crate::types::#c };
                items.push(constructor(
                    &ty,
                    fields,
                    &format!("A `{t}` payload"),
                    optional_bits.get(&names::pascal(comp)).copied(),
                ));
                items.push(quote! {
                    impl ::core::convert::From<crate::types::#c> for #name {
                        fn from(p: crate::types::#c) -> Self { Self::#v(p) }
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
