//! Tolerant, exact response shapes.
//!
//! typify derives `Deserialize`/`Serialize` for every struct it makes. For
//! every shape a response can carry (each model's record, its approval
//! record, the typed `details` payloads, and every struct reachable from
//! them), this module replaces the derives with our own code:
//!
//! * a map visitor that matches keys by JSON name without allocating, reads
//!   an absent documented field as its `Absent` value and records it in the
//!   struct's `missing`, keeps every other key (value as raw JSON text) in the
//!   struct's `unknown`, and reads a record's typed-payload selector and
//!   payload itself (no `serde(flatten)` buffering);
//! * a serializer writing the documented fields in the spec's order (those
//!   in `missing` left out while still absent), then the unknown keys;
//! * an `Absent` impl, and constructors for the nested shapes.
//!
//! Untagged unions get one-pass decoders: scalar unions (`ExtraFieldsValue`)
//! sort a value by its JSON kind and keep a value of no documented kind as
//! `Other`; object unions (`SpeciesSaveEnvelope`) pick the alternative whose
//! required keys are present. Free-form JSON (`serde_json::Map`/`Value`)
//! in these shapes, and in the create and patch shapes next to them, becomes
//! `RawObject`/`RawJson` so numbers of any size survive.
//!
//! Create and patch shapes and request-only inputs keep typify's derives
//! (the shapes' `Deserialize` only with the feature `deserialize-writes`:
//! [`gate_write_deserialize`]).

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};
use serde_json::Value;
use syn::visit_mut::VisitMut;

use super::emit::{self, Group};
use super::names;
use super::spec::Api;

/// The Rust fields added to every tolerant struct.
pub const ADDED_FIELDS: [&str; 2] = ["missing", "unknown"];

/// What the rest of the generator needs to know about the tolerant shapes.
pub struct Tolerant {
    /// Struct name -> the bits of its optional fields in `missing` (for
    /// constructors: what a constructor leaves out is not sent).
    pub optional_bits: BTreeMap<String, u64>,
}

/// One place in a tolerant struct's JSON object.
enum Entry {
    Field {
        json: String,
        ident: syn::Ident,
        ty: Box<syn::Type>,
        always: bool,
    },
    Tag {
        json: String,
        slot: usize,
        always: bool,
    },
    Content {
        json: String,
        slot: usize,
        always: bool,
    },
}

impl Entry {
    fn json(&self) -> &str {
        match self {
            Entry::Field { json, .. } | Entry::Tag { json, .. } | Entry::Content { json, .. } => {
                json
            }
        }
    }
    fn always(&self) -> bool {
        match self {
            Entry::Field { always, .. }
            | Entry::Tag { always, .. }
            | Entry::Content { always, .. } => *always,
        }
    }
}

/// Whether a field's type is read through `brainstem::fast_time` (a UTC
/// timestamp, or an optional one): the same values as its `Deserialize`,
/// without chrono's general parser on the common form.
fn has_fast_path(ty: &syn::Type) -> bool {
    let text = quote!(#ty).to_string().replace(' ', "");
    const TIME: &str = "::chrono::DateTime<::chrono::offset::Utc>";
    text == TIME || text == format!("::std::option::Option<{TIME}>")
}

/// The item type of a `Vec<T>` field (decoded into a `Vec` of its exact
/// length when short: `brainstem::tolerant::ExactList`).
fn vec_item(ty: &syn::Type) -> Option<&syn::Type> {
    let syn::Type::Path(p) = ty else { return None };
    let names: Vec<String> = p
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    if names != ["std", "vec", "Vec"] && names != ["Vec"] {
        return None;
    }
    match &p.path.segments.last()?.arguments {
        syn::PathArguments::AngleBracketed(a) if a.args.len() == 1 => match a.args.first()? {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

/// A flattened typed-payload field of a record.
struct Slot {
    ident: syn::Ident,
    ty: syn::Type,
}

fn serde_attr_text(attrs: &[syn::Attribute]) -> String {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("serde"))
        .map(|a| a.meta.to_token_stream().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

fn has_word(text: &str, word: &str) -> bool {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|w| w == word)
}

fn rename_of(text: &str) -> Option<String> {
    let i = text.find("rename = \"")?;
    let rest = &text[i + "rename = \"".len()..];
    Some(rest[..rest.find('"')?].to_string())
}

/// Whether a field typify generated may be absent (it gave it a default or
/// skips it when empty).
fn is_optional(text: &str) -> bool {
    has_word(text, "default") || has_word(text, "skip_serializing_if")
}

fn is_untagged(attrs: &[syn::Attribute]) -> bool {
    has_word(&serde_attr_text(attrs), "untagged")
}

fn type_string(t: &impl ToTokens) -> String {
    t.to_token_stream().to_string().replace(' ', "")
}

fn derives_of(attrs: &[syn::Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("derive"))
        .flat_map(|a| {
            a.parse_args_with(
                syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
            )
            .map(|p| p.iter().map(type_string).collect::<Vec<_>>())
            .unwrap_or_default()
        })
        .collect()
}

/// Drop derives whose path ends with one of `names`.
fn drop_derives(attrs: &mut [syn::Attribute], names: &[&str]) {
    for a in attrs.iter_mut().filter(|a| a.path().is_ident("derive")) {
        let Ok(list) = a.parse_args_with(
            syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
        ) else {
            continue;
        };
        let kept: Vec<&syn::Path> = list
            .iter()
            .filter(|p| {
                let last = p
                    .segments
                    .last()
                    .map(|s| s.ident.to_string())
                    .unwrap_or_default();
                !names.contains(&last.as_str())
            })
            .collect();
        *a = syn::parse_quote! { #[derive(#(#kept),*)] };
    }
}

/// Remove `#[serde(...)]` attributes: once the item is coded by our own
/// impls no derive reads them (and no derive would accept them).
fn drop_serde_attrs(attrs: &mut Vec<syn::Attribute>) {
    attrs.retain(|a| !a.path().is_ident("serde"));
}

/// The local type names a type mentions.
fn local_names(ty: &syn::Type, known: &BTreeSet<String>, out: &mut Vec<String>) {
    struct Names<'a> {
        known: &'a BTreeSet<String>,
        out: &'a mut Vec<String>,
    }
    impl syn::visit_mut::VisitMut for Names<'_> {
        fn visit_path_mut(&mut self, p: &mut syn::Path) {
            for seg in &p.segments {
                let s = seg.ident.to_string();
                if self.known.contains(&s) {
                    self.out.push(s);
                }
            }
            syn::visit_mut::visit_path_mut(self, p);
        }
    }
    let mut t = ty.clone();
    Names { known, out }.visit_type_mut(&mut t);
}

fn item_ident(item: &syn::Item) -> Option<String> {
    match item {
        syn::Item::Struct(s) => Some(s.ident.to_string()),
        syn::Item::Enum(e) => Some(e.ident.to_string()),
        _ => None,
    }
}

/// The type an `impl` block is for, when it is a plain local name.
fn impl_target(item: &syn::Item) -> Option<String> {
    let syn::Item::Impl(i) = item else {
        return None;
    };
    match &*i.self_ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// Every name in an `impl` block's header (`impl From<X> for Y`: `From`, `X`, `Y`, ...).
fn impl_names(item: &syn::Item) -> Vec<String> {
    let syn::Item::Impl(i) = item else {
        return vec![];
    };
    let mut header = i.self_ty.to_token_stream();
    if let Some((p, _)) = &i.trait_ {
        header.extend(p.to_token_stream());
    }
    fn walk(ts: TokenStream, out: &mut Vec<String>) {
        for tt in ts {
            match tt {
                proc_macro2::TokenTree::Ident(id) => out.push(id.to_string()),
                proc_macro2::TokenTree::Group(g) => walk(g.stream(), out),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(header, &mut out);
    out
}

/// `serde_json::Map<String, Value>` -> `RawObject`, `serde_json::Value` -> `RawJson`.
struct Rawify;

const MAP: &str = "::serde_json::Map<::std::string::String,::serde_json::Value>";
const VALUE: &str = "::serde_json::Value";

impl VisitMut for Rawify {
    fn visit_type_mut(&mut self, t: &mut syn::Type) {
        let s = type_string(t);
        if s == MAP {
            *t = syn::parse_quote! { ::brainstem::RawObject };
        } else if s == VALUE {
            *t = syn::parse_quote! { ::brainstem::RawJson };
        } else {
            syn::visit_mut::visit_type_mut(self, t);
        }
    }
    fn visit_attribute_mut(&mut self, a: &mut syn::Attribute) {
        if a.path().is_ident("serde") {
            let text = a.meta.to_token_stream().to_string();
            if text.contains("::serde_json::Map::is_empty") {
                let fixed = text.replace(
                    "::serde_json::Map::is_empty",
                    "::brainstem::RawObject::is_empty",
                );
                if let Ok(meta) = syn::parse_str::<syn::Meta>(&fixed) {
                    a.meta = meta;
                }
            }
        }
    }
}

/// The JSON kind(s) a union alternative's type accepts, for dispatch.
enum AltKind {
    String,
    Number,
    Float,
    Integer,
    Boolean,
    Array,
    /// An object with these required keys.
    Object(Vec<String>),
}

fn alt_kind(ty: &syn::Type, structs: &BTreeMap<String, Vec<(String, bool)>>) -> Option<AltKind> {
    let s = type_string(ty);
    Some(match s.as_str() {
        "::std::string::String" => AltKind::String,
        "::brainstem::Number" => AltKind::Number,
        "f64" => AltKind::Float,
        "i64" => AltKind::Integer,
        "bool" => AltKind::Boolean,
        MAP | "::brainstem::RawObject" => AltKind::Object(vec![]),
        _ if s.starts_with("::std::vec::Vec<") => AltKind::Array,
        _ if s.starts_with("::brainstem::Map<") => AltKind::Object(vec![]),
        other => {
            let fields = structs.get(other)?;
            AltKind::Object(
                fields
                    .iter()
                    .filter(|(_, required)| *required)
                    .map(|(j, _)| j.clone())
                    .collect(),
            )
        }
    })
}

/// The JSON names and required flags of every named struct (for unions).
fn struct_keys(file: &syn::File) -> BTreeMap<String, Vec<(String, bool)>> {
    let mut out = BTreeMap::new();
    for item in &file.items {
        if let syn::Item::Struct(st) = item
            && let syn::Fields::Named(named) = &st.fields
        {
            let keys = named
                .named
                .iter()
                .filter_map(|f| {
                    let text = serde_attr_text(&f.attrs);
                    if has_word(&text, "flatten") {
                        return None;
                    }
                    let json = match rename_of(&text) {
                        Some(j) => j,
                        None => f.ident.as_ref()?.to_string(),
                    };
                    Some((json, !is_optional(&text)))
                })
                .collect();
            out.insert(st.ident.to_string(), keys);
        }
    }
    out
}

/// Rewrite typify's output in `file` (see the module docs).
pub fn transform(
    file: &mut syn::File,
    spec: &Value,
    api: &Api,
    groups: &[Group],
    type_fields: &mut emit::TypeFields,
) -> Result<Tolerant, String> {
    let known: BTreeSet<String> = file.items.iter().filter_map(item_ident).collect();

    // 1. the shapes responses carry: records, approval records, typed
    //    payloads, and everything they mention
    let records: BTreeSet<String> = api
        .models
        .iter()
        .flat_map(|m| {
            std::iter::once(m.schema.clone()).chain(m.approval.iter().map(|a| a.schema.clone()))
        })
        .collect();
    let payloads: BTreeSet<String> = groups
        .iter()
        .flat_map(|g| g.types.iter().map(|(_, _, c)| names::pascal(c)))
        .collect();
    let mut tolerant: BTreeSet<String> = BTreeSet::new();
    let mut queue: Vec<String> = records.iter().chain(&payloads).cloned().collect();
    while let Some(name) = queue.pop() {
        if !known.contains(&name) || !tolerant.insert(name.clone()) {
            continue;
        }
        let Some(item) = file
            .items
            .iter()
            .find(|i| item_ident(i).as_deref() == Some(name.as_str()))
        else {
            continue;
        };
        let mut found = Vec::new();
        match item {
            syn::Item::Struct(st) => {
                for f in st.fields.iter() {
                    local_names(&f.ty, &known, &mut found);
                }
            }
            syn::Item::Enum(e) => {
                for v in &e.variants {
                    for f in v.fields.iter() {
                        local_names(&f.ty, &known, &mut found);
                    }
                }
            }
            _ => {}
        }
        queue.extend(found);
    }
    let request_shapes = write_shapes(api);

    // 2. free-form JSON keeps numbers of any size, in these shapes and in the
    //    create and patch shapes that carry the same fields
    for item in file.items.iter_mut() {
        let names: Vec<String> = match item_ident(item) {
            Some(n) => vec![n],
            None => impl_names(item),
        };
        if names
            .iter()
            .any(|n| tolerant.contains(n) || request_shapes.contains(n))
        {
            Rawify.visit_item_mut(item);
        }
    }
    let keys = struct_keys(file);
    // constructors take the field types as they now are
    for item in &file.items {
        if let syn::Item::Struct(st) = item
            && let Some(fields) = type_fields.get_mut(&st.ident.to_string())
        {
            for f in st.fields.iter() {
                let Some(id) = &f.ident else { continue };
                if let Some(entry) = fields.iter_mut().find(|(r, _, _)| id == r) {
                    entry.2 = f.ty.to_token_stream();
                }
            }
        }
    }

    // 3. rewrite
    let docs = emit::field_docs(&file.items);
    let mut optional_bits = BTreeMap::new();
    let mut new_items: Vec<TokenStream> = Vec::new();
    let mut drop_impls_of: BTreeSet<String> = BTreeSet::new();
    for item in file.items.iter_mut() {
        match item {
            syn::Item::Struct(st) if tolerant.contains(&st.ident.to_string()) => {
                match &st.fields {
                    syn::Fields::Named(_) => {
                        let (code, bits) = tolerant_struct(st, spec, api)?;
                        let name = st.ident.to_string();
                        let needs_ctor = !records.contains(&name) && !payloads.contains(&name);
                        if needs_ctor && let Some(fields) = type_fields.get(&name) {
                            let st_ident = &st.ident;
                            new_items.push(emit::constructor(
                                st_ident,
                                fields,
                                &docs,
                                "A value",
                                Some(bits),
                            ));
                        }
                        optional_bits.insert(name, bits);
                        new_items.push(code);
                    }
                    _ => {
                        // newtypes keep their transparent derives
                        let id = &st.ident;
                        new_items.push(quote! {
                            impl ::brainstem::Absent for #id {
                                fn absent() -> Self {
                                    Self(::brainstem::Absent::absent())
                                }
                                fn is_absent(&self) -> bool {
                                    ::brainstem::Absent::is_absent(&self.0)
                                }
                            }
                        });
                    }
                }
            }
            syn::Item::Enum(e) if is_untagged(&e.attrs) => {
                let in_response = tolerant.contains(&e.ident.to_string());
                if let Some(code) = scalar_union(e, in_response)? {
                    drop_impls_of.insert(e.ident.to_string());
                    new_items.push(code);
                } else {
                    new_items.push(object_union(e, &keys)?);
                }
            }
            syn::Item::Enum(e) if tolerant.contains(&e.ident.to_string()) => {
                return Err(format!(
                    "{}: a tagged enum in a response shape; the tolerant decoder does not handle it yet",
                    e.ident
                ));
            }
            _ => {}
        }
    }
    file.items.retain(|i| {
        !impl_target(i).is_some_and(|t| drop_impls_of.contains(&t)) || !is_typify_union_impl(i)
    });
    for code in new_items {
        let parsed: syn::File = syn::parse2(code)
            .map_err(|e| format!("generated tolerant code does not parse: {e}"))?;
        file.items.extend(parsed.items);
    }
    Ok(Tolerant { optional_bits })
}

/// The envelope types (`SessionEnvelope`, `SessionListEnvelope`,
/// `SessionSaveEnvelope`, and an approval's two), with every `impl` that
/// names one, compiled only with the feature `raw`: the operation layer
/// returns them, while the client reads envelopes by their keys in the
/// metadata and never builds one.
pub fn gate_envelopes(file: &mut syn::File, api: &Api) {
    let envelopes: BTreeSet<String> = api
        .models
        .iter()
        .flat_map(|m| {
            let mut names = vec![
                format!("{}Envelope", m.schema),
                format!("{}ListEnvelope", m.schema),
                format!("{}SaveEnvelope", m.schema),
            ];
            if let Some(a) = &m.approval {
                names.push(format!("{}Envelope", a.schema));
                names.push(format!("{}ListEnvelope", a.schema));
            }
            names
        })
        .collect();
    let gate: syn::Attribute = syn::parse_quote! { #[cfg(feature = "raw")] };
    for item in file.items.iter_mut() {
        let named = item_ident(item).is_some_and(|n| envelopes.contains(&n))
            || impl_names(item).iter().any(|n| envelopes.contains(n));
        if !named {
            continue;
        }
        match item {
            syn::Item::Struct(x) => x.attrs.insert(0, gate.clone()),
            syn::Item::Enum(x) => x.attrs.insert(0, gate.clone()),
            syn::Item::Impl(x) => x.attrs.insert(0, gate.clone()),
            _ => {}
        }
    }
}

/// The names of every model's create and patch shapes (`NewSession`,
/// `SessionPatch`).
fn write_shapes(api: &Api) -> BTreeSet<String> {
    api.models
        .iter()
        .flat_map(|m| [m.new_name(), m.patch_name()])
        .collect()
}

/// The create and patch shapes (`NewSession`, `SessionPatch`) derive
/// `Deserialize` only with the feature `deserialize-writes`: the client only
/// writes them, and their decoders were about a tenth of the SDK crate's
/// debug build. The command-line tool, which reads a write's body from JSON,
/// turns the feature on.
pub fn gate_write_deserialize(file: &mut syn::File, api: &Api) {
    let writes = write_shapes(api);
    for item in file.items.iter_mut() {
        let syn::Item::Struct(st) = item else {
            continue;
        };
        if !writes.contains(&st.ident.to_string())
            || !derives_of(&st.attrs)
                .iter()
                .any(|d| d.ends_with("Deserialize"))
        {
            continue;
        }
        drop_derives(&mut st.attrs, &["Deserialize"]);
        let at = st
            .attrs
            .iter()
            .position(|a| a.path().is_ident("derive"))
            .map_or(0, |i| i + 1);
        st.attrs.insert(
            at,
            syn::parse_quote! {
                #[cfg_attr(feature = "deserialize-writes", derive(::serde::Deserialize))]
            },
        );
    }
}

/// typify's `Display` / `From` impls of an untagged union (replaced by ours).
fn is_typify_union_impl(item: &syn::Item) -> bool {
    let syn::Item::Impl(i) = item else {
        return false;
    };
    i.trait_.as_ref().is_some_and(|(p, _)| {
        let last = p
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        last == "Display" || last == "From"
    })
}

/// A set of fields in `missing` as a binary literal (bit `i` is
/// `FIELD_NAMES[i]`, read from the right).
pub fn bits_literal(bits: u64) -> syn::LitInt {
    syn::LitInt::new(&format!("{bits:#b}"), proc_macro2::Span::call_site())
}

/// The JSON property order of a component, if it is one.
fn spec_order(spec: &Value, name: &str) -> Vec<String> {
    spec.pointer(&format!("/components/schemas/{name}/properties"))
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// Rewrite one named struct; returns its impls and the bits of its optional fields.
fn tolerant_struct(
    st: &mut syn::ItemStruct,
    spec: &Value,
    api: &Api,
) -> Result<(TokenStream, u64), String> {
    let name = st.ident.to_string();
    let model = api.models.iter().find(|m| m.schema == name);
    let syn::Fields::Named(named) = &mut st.fields else {
        return Err(format!("{name}: not a struct with named fields"));
    };
    // the fields as typify made them
    let mut plain: Vec<Entry> = Vec::new();
    let mut slots: Vec<Slot> = Vec::new();
    let mut slot_parts: Vec<Entry> = Vec::new();
    for f in named.named.iter() {
        let ident = f
            .ident
            .clone()
            .ok_or_else(|| format!("{name}: unnamed field"))?;
        if ADDED_FIELDS.contains(&ident.to_string().as_str()) {
            return Err(format!(
                "{name} has a property whose Rust name is `{ident}`, which the generator adds to every response shape (documented fields it did not receive / keys the schema does not list): rename the property in the spec or the added field in codegen/tolerant.rs"
            ));
        }
        let text = serde_attr_text(&f.attrs);
        if has_word(&text, "flatten") {
            let m = model.ok_or_else(|| format!("{name}: a flattened field outside a model"))?;
            let slot = m
                .details
                .iter()
                .find(|d| ident == names::field(&d.content))
                .ok_or_else(|| {
                    format!("{name}.{ident}: flattened, but no x-brainstem-details slot")
                })?;
            let flag = |json: &str| {
                m.fields
                    .iter()
                    .find(|f| f.json == json)
                    .is_some_and(|f| f.response_required)
            };
            let i = slots.len();
            slots.push(Slot {
                ident,
                ty: f.ty.clone(),
            });
            slot_parts.push(Entry::Tag {
                json: slot.tag.clone(),
                slot: i,
                always: flag(&slot.tag),
            });
            slot_parts.push(Entry::Content {
                json: slot.content.clone(),
                slot: i,
                always: flag(&slot.content),
            });
            continue;
        }
        let json = rename_of(&text).unwrap_or_else(|| ident.to_string());
        plain.push(Entry::Field {
            json,
            ident,
            ty: Box::new(f.ty.clone()),
            always: !is_optional(&text),
        });
    }
    // in the spec's order, where the struct is a component
    let mut pool: Vec<Entry> = plain.into_iter().chain(slot_parts).collect();
    let mut entries: Vec<Entry> = Vec::new();
    for json in spec_order(spec, &name) {
        if let Some(i) = pool.iter().position(|e| e.json() == json) {
            entries.push(pool.remove(i));
        }
    }
    entries.extend(pool);
    if entries.len() > 64 {
        return Err(format!(
            "{name} has {} fields; MissingFields holds at most 64",
            entries.len()
        ));
    }

    // the struct itself: our impls instead of serde's, plus `missing` and `unknown`
    let had_default = derives_of(&st.attrs).iter().any(|d| d.ends_with("Default"));
    let note = " Decoded and encoded by generated code: a documented field that is absent reads as its [`Absent`](::brainstem::Absent) value and is listed in `missing`, other keys are kept in `unknown`; encoding writes the fields in [`FIELD_NAMES`](Self::FIELD_NAMES) order, then `unknown`.";
    let insert_at = st
        .attrs
        .iter()
        .rposition(|a| a.path().is_ident("doc"))
        .map_or(0, |i| i + 1);
    st.attrs
        .insert(insert_at, syn::parse_quote! { #[doc = ""] });
    st.attrs
        .insert(insert_at + 1, syn::parse_quote! { #[doc = #note] });
    drop_derives(&mut st.attrs, &["Deserialize", "Serialize", "Default"]);
    drop_serde_attrs(&mut st.attrs);
    for f in st.fields.iter_mut() {
        drop_serde_attrs(&mut f.attrs);
    }
    let syn::Fields::Named(named) = &mut st.fields else {
        unreachable!("checked above")
    };
    named.named.push(syn::parse_quote! {
        /// The documented fields this value did not receive, left out when it
        /// is encoded again (see [`MissingFields`](::brainstem::MissingFields)).
        pub missing: ::brainstem::MissingFields
    });
    named.named.push(syn::parse_quote! {
        /// Keys the schema does not list, exactly as received; written back
        /// after the documented fields.
        pub unknown: ::brainstem::UnknownFields
    });

    let ty = &st.ident;
    let shape = name.as_str();
    let jsons: Vec<&str> = entries.iter().map(Entry::json).collect();
    let optional: u64 = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| !e.always())
        .fold(0, |b, (i, _)| b | (1u64 << i));
    let expecting = format!("a {name} object");

    // decoding
    let mut locals = Vec::new();
    let mut arms = Vec::new();
    let mut inits = Vec::new();
    let mut slot_inits: BTreeMap<usize, (TokenStream, TokenStream)> = BTreeMap::new();
    for (index, e) in entries.iter().enumerate() {
        let var = format_ident!("__f{}", index);
        let i = proc_macro2::Literal::usize_unsuffixed(index);
        let always = e.always();
        match e {
            Entry::Field { ident, ty, .. } => {
                locals.push(quote! { let mut #var: ::core::option::Option<#ty> = ::core::option::Option::None; });
                let read = if has_fast_path(ty) {
                    quote! { ::brainstem::tolerant::read_time(&mut __map, &mut #var)? }
                } else if vec_item(ty).is_some() {
                    quote! { ::brainstem::tolerant::read_list(&mut __map, &mut #var)? }
                } else {
                    quote! { ::brainstem::tolerant::read(&mut __map, &mut #var)? }
                };
                arms.push(quote! { ::brainstem::tolerant::Key::Field(#i) => #read, });
                inits.push(quote! { #ident: ::brainstem::tolerant::take(#var, &mut __missing, #i, #shape, #always), });
            }
            Entry::Tag { slot, .. } => {
                locals.push(quote! { let mut #var: ::core::option::Option<::std::string::String> = ::core::option::Option::None; });
                arms.push(quote! { ::brainstem::tolerant::Key::Field(#i) => ::brainstem::tolerant::read(&mut __map, &mut #var)?, });
                slot_inits.entry(*slot).or_default().0 = quote! { ::brainstem::tolerant::take_opt(#var, &mut __missing, #i, #shape, #always) };
            }
            Entry::Content { slot, .. } => {
                locals.push(quote! { let mut #var: ::core::option::Option<::brainstem::RawJson> = ::core::option::Option::None; });
                arms.push(quote! { ::brainstem::tolerant::Key::Field(#i) => ::brainstem::tolerant::read(&mut __map, &mut #var)?, });
                slot_inits.entry(*slot).or_default().1 = quote! { ::brainstem::tolerant::take_opt(#var, &mut __missing, #i, #shape, #always) };
            }
        }
    }
    for (i, s) in slots.iter().enumerate() {
        let (tag, content) = slot_inits.remove(&i).unwrap_or_default();
        let ident = &s.ident;
        let sty = &s.ty;
        inits.push(quote! { #ident: <#sty>::from_record_parts(#tag, #content), });
    }
    let key_arms = entries.iter().enumerate().map(|(i, e)| {
        let i = proc_macro2::Literal::usize_unsuffixed(i);
        let j = e.json();
        quote! { #j => ::core::option::Option::Some(#i), }
    });

    // encoding
    let writes = entries.iter().enumerate().map(|(i, e)| (proc_macro2::Literal::usize_unsuffixed(i), e)).map(|(i, e)| match e {
        Entry::Field { json, ident, .. } => quote! {
            if ::brainstem::tolerant::writes(&self.missing, #i, &self.#ident) {
                __m.serialize_entry(#json, &self.#ident)?;
            }
        },
        Entry::Tag { json, slot, .. } => {
            let id = &slots[*slot].ident;
            quote! {
                if !(self.missing.contains_index(#i) && self.#id.type_name().is_empty()) {
                    __m.serialize_entry(#json, self.#id.type_name())?;
                }
            }
        }
        Entry::Content { json, slot, .. } => {
            let id = &slots[*slot].ident;
            quote! {
                if !(self.missing.contains_index(#i) && self.#id.content_is_absent()) {
                    __m.serialize_entry(#json, &::brainstem::tolerant::DetailsContent(&self.#id))?;
                }
            }
        }
    });

    // absent
    let mut absent_inits = Vec::new();
    let mut absent_checks = Vec::new();
    for e in &entries {
        if let Entry::Field { ident, .. } = e {
            absent_inits.push(quote! { #ident: ::brainstem::Absent::absent(), });
            absent_checks.push(quote! { ::brainstem::Absent::is_absent(&self.#ident) && });
        }
    }
    for s in &slots {
        let ident = &s.ident;
        absent_inits.push(quote! { #ident: ::brainstem::Absent::absent(), });
        absent_checks.push(quote! { ::brainstem::Absent::is_absent(&self.#ident) && });
    }
    let default_impl = if had_default {
        let optional = bits_literal(optional);
        let inits = entries.iter().filter_map(|e| match e {
            Entry::Field { ident, .. } => {
                Some(quote! { #ident: ::core::default::Default::default(), })
            }
            _ => None,
        });
        quote! {
            impl ::core::default::Default for #ty {
                /// Every field left out (nothing is sent until it is set).
                fn default() -> Self {
                    Self {
                        #(#inits)*
                        missing: ::brainstem::MissingFields::from_bits(Self::FIELD_NAMES, #optional),
                        unknown: ::brainstem::UnknownFields::new(),
                    }
                }
            }
        }
    } else {
        quote! {}
    };
    let names_doc = format!(
        "The JSON names of `{name}`'s documented fields, in the order they are written (the names [`MissingFields`](::brainstem::MissingFields) speaks of)."
    );

    let code = quote! {
        impl #ty {
            #[doc = #names_doc]
            pub const FIELD_NAMES: &'static [&'static str] = &[#(#jsons),*];
        }

        impl<'de> ::serde::Deserialize<'de> for #ty {
            fn deserialize<__D: ::serde::Deserializer<'de>>(__d: __D) -> ::core::result::Result<Self, __D::Error> {
                fn __field(__k: &str) -> ::core::option::Option<usize> {
                    match __k {
                        #(#key_arms)*
                        _ => ::core::option::Option::None,
                    }
                }
                struct __V;
                impl<'de> ::serde::de::Visitor<'de> for __V {
                    type Value = #ty;
                    fn expecting(&self, __f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                        __f.write_str(#expecting)
                    }
                    fn visit_map<__A: ::serde::de::MapAccess<'de>>(self, mut __map: __A) -> ::core::result::Result<#ty, __A::Error> {
                        #(#locals)*
                        let mut __unknown = ::brainstem::UnknownFields::new();
                        while let ::core::option::Option::Some(__key) = __map.next_key_seed(::brainstem::tolerant::KeySeed(__field))? {
                            match __key {
                                #(#arms)*
                                __other => ::brainstem::tolerant::read_other(&mut __map, &mut __unknown, #shape, __other)?,
                            }
                        }
                        let mut __missing = ::brainstem::MissingFields::none(#ty::FIELD_NAMES);
                        ::core::result::Result::Ok(#ty {
                            #(#inits)*
                            missing: __missing,
                            unknown: __unknown,
                        })
                    }
                }
                __d.deserialize_map(__V)
            }
        }

        impl ::serde::Serialize for #ty {
            fn serialize<__S: ::serde::Serializer>(&self, __s: __S) -> ::core::result::Result<__S::Ok, __S::Error> {
                use ::serde::ser::SerializeMap;
                let mut __m = __s.serialize_map(::core::option::Option::None)?;
                #(#writes)*
                for (__k, __v) in self.unknown.iter() {
                    __m.serialize_entry(__k, __v)?;
                }
                __m.end()
            }
        }

        impl ::brainstem::Absent for #ty {
            fn absent() -> Self {
                Self {
                    #(#absent_inits)*
                    missing: ::brainstem::MissingFields::all(Self::FIELD_NAMES),
                    unknown: ::brainstem::UnknownFields::new(),
                }
            }
            fn is_absent(&self) -> bool {
                #(#absent_checks)* self.unknown.is_empty()
            }
        }

        #default_impl
    };
    Ok((code, optional))
}

/// An untagged union of scalars (`ExtraFieldsValue`): one pass, sorted by the
/// value's JSON kind; in a response shape a value of no documented kind is
/// kept as `Other`. `None` when the union is not one of scalars.
fn scalar_union(e: &mut syn::ItemEnum, in_response: bool) -> Result<Option<TokenStream>, String> {
    let name = e.ident.to_string();
    let mut alts = Vec::new();
    for v in &e.variants {
        let syn::Fields::Unnamed(u) = &v.fields else {
            return Ok(None);
        };
        if u.unnamed.len() != 1 {
            return Ok(None);
        }
        let ty = &u.unnamed[0].ty;
        let kind = match alt_kind(ty, &BTreeMap::new()) {
            Some(
                k @ (AltKind::String
                | AltKind::Number
                | AltKind::Float
                | AltKind::Integer
                | AltKind::Boolean),
            ) => k,
            _ => return Ok(None),
        };
        alts.push((v.ident.clone(), ty.clone(), kind));
    }
    // alternatives are named by their kind (typify numbers the ones it
    // does not recognize: `Variant1(Number)`)
    for (v, (ident, _, kind)) in e.variants.iter_mut().zip(alts.iter_mut()) {
        let by_kind = match kind {
            AltKind::String => "String",
            AltKind::Number | AltKind::Float => "Number",
            AltKind::Integer => "Integer",
            AltKind::Boolean => "Boolean",
            _ => unreachable!("filtered above"),
        };
        *ident = format_ident!("{}", by_kind);
        v.ident = ident.clone();
    }
    if !in_response {
        return Err(format!(
            "{name}: a scalar union outside the response shapes; decide whether it keeps unexpected values"
        ));
    }
    let ty = &e.ident;
    let other = format_ident!("Other");
    if alts.iter().any(|(v, _, _)| *v == other) {
        return Err(format!("{name}: a documented alternative is named `Other`"));
    }
    // the enum itself: our impls, and `Other`
    drop_derives(&mut e.attrs, &["Deserialize", "Serialize"]);
    drop_serde_attrs(&mut e.attrs);
    for v in e.variants.iter_mut() {
        drop_serde_attrs(&mut v.attrs);
        for f in v.fields.iter_mut() {
            drop_serde_attrs(&mut f.attrs);
        }
    }
    e.variants.push(syn::parse_quote! {
        /// A value of none of the documented kinds, kept as received (a
        /// response may carry one; `validate()` refuses it in a request).
        Other(::brainstem::RawJson)
    });
    let mut taken = BTreeSet::new();
    let mut arms = Vec::new();
    for (v, _, kind) in &alts {
        let arm = match kind {
            AltKind::String => quote! { ::brainstem::tolerant::Scalar::String(x) => Self::#v(x), },
            AltKind::Number => quote! { ::brainstem::tolerant::Scalar::Number(x) => Self::#v(x), },
            AltKind::Float => {
                quote! { ::brainstem::tolerant::Scalar::Number(x) if x.is_finite() => Self::#v(x.as_f64()), }
            }
            AltKind::Integer => {
                quote! { ::brainstem::tolerant::Scalar::Number(x) if x.as_i64().is_some() => Self::#v(x.as_i64().unwrap_or_default()), }
            }
            AltKind::Boolean => quote! { ::brainstem::tolerant::Scalar::Bool(x) => Self::#v(x), },
            _ => unreachable!("filtered above"),
        };
        let key = match kind {
            AltKind::String => "s",
            AltKind::Boolean => "b",
            _ => "n",
        };
        if !taken.insert(key) {
            return Err(format!(
                "{name}: two alternatives of the same JSON kind; a one-pass decoder cannot tell them apart"
            ));
        }
        arms.push(arm);
    }
    let ser = alts
        .iter()
        .map(|(v, _, _)| quote! { Self::#v(x) => ::serde::Serialize::serialize(x, __s), });
    let disp = alts
        .iter()
        .map(|(v, _, _)| quote! { Self::#v(x) => ::core::fmt::Display::fmt(x, __f), });
    let froms = alts.iter().map(|(v, t, kind)| {
        let extra = match kind {
            AltKind::String => quote! {
                impl ::core::convert::From<&str> for #ty {
                    fn from(value: &str) -> Self { Self::#v(value.to_string()) }
                }
            },
            AltKind::Number => quote! {
                impl ::core::convert::From<f64> for #ty {
                    fn from(value: f64) -> Self { Self::#v(value.into()) }
                }
                impl ::core::convert::From<i64> for #ty {
                    fn from(value: i64) -> Self { Self::#v(value.into()) }
                }
            },
            _ => quote! {},
        };
        quote! {
            impl ::core::convert::From<#t> for #ty {
                fn from(value: #t) -> Self { Self::#v(value) }
            }
            #extra
        }
    });
    Ok(Some(quote! {
        impl<'de> ::serde::Deserialize<'de> for #ty {
            fn deserialize<__D: ::serde::Deserializer<'de>>(__d: __D) -> ::core::result::Result<Self, __D::Error> {
                ::core::result::Result::Ok(match ::brainstem::tolerant::deserialize_scalar(__d)? {
                    #(#arms)*
                    __other => {
                        let __raw = __other.into_raw();
                        ::brainstem::tolerant::unexpected_value(#name, &__raw);
                        Self::Other(__raw)
                    }
                })
            }
        }
        impl ::serde::Serialize for #ty {
            fn serialize<__S: ::serde::Serializer>(&self, __s: __S) -> ::core::result::Result<__S::Ok, __S::Error> {
                match self {
                    #(#ser)*
                    Self::Other(x) => ::serde::Serialize::serialize(x, __s),
                }
            }
        }
        impl ::core::fmt::Display for #ty {
            fn fmt(&self, __f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                match self {
                    #(#disp)*
                    Self::Other(x) => ::core::fmt::Display::fmt(x, __f),
                }
            }
        }
        #(#froms)*
        impl ::brainstem::Absent for #ty {
            /// `Other(null)`.
            fn absent() -> Self {
                Self::Other(::brainstem::RawJson::null())
            }
            fn is_absent(&self) -> bool {
                matches!(self, Self::Other(x) if x.is_null())
            }
        }
    }))
}

/// An untagged union of objects and lists (`SpeciesSaveEnvelope`,
/// `ApiError`): the value is read once as raw JSON, the first alternative of
/// its kind whose required keys are all present is decoded from it.
fn object_union(
    e: &mut syn::ItemEnum,
    keys: &BTreeMap<String, Vec<(String, bool)>>,
) -> Result<TokenStream, String> {
    let name = e.ident.to_string();
    let mut checks = Vec::new();
    let mut needs_keys = false;
    let mut described = Vec::new();
    for v in &e.variants {
        let syn::Fields::Unnamed(u) = &v.fields else {
            return Err(format!("{name}::{}: not a one-field alternative", v.ident));
        };
        let ty = &u.unnamed[0].ty;
        let kind = alt_kind(ty, keys).ok_or_else(|| {
            format!(
                "{name}::{}: no dispatch rule for {}",
                v.ident,
                type_string(ty)
            )
        })?;
        let vi = &v.ident;
        let (cond, what) = match kind {
            AltKind::Object(required) => {
                needs_keys |= !required.is_empty();
                let what = if required.is_empty() {
                    "an object".to_string()
                } else {
                    format!("an object with {}", required.join(", "))
                };
                (
                    quote! { __first == b'{' #(&& __keys.iter().any(|k| k == #required))* },
                    what,
                )
            }
            AltKind::Array => (quote! { __first == b'[' }, "a list".to_string()),
            AltKind::String => (quote! { __first == b'"' }, "a string".to_string()),
            AltKind::Boolean => (
                quote! { (__first == b't' || __first == b'f') },
                "a boolean".to_string(),
            ),
            AltKind::Number | AltKind::Float | AltKind::Integer => (
                quote! { (__first == b'-' || __first.is_ascii_digit()) },
                "a number".to_string(),
            ),
        };
        described.push(what);
        checks.push(quote! {
            if #cond {
                return __raw.parse().map(Self::#vi).map_err(<__D::Error as ::serde::de::Error>::custom);
            }
        });
    }
    drop_derives(&mut e.attrs, &["Deserialize"]);
    let ty = &e.ident;
    let keys_init = if needs_keys {
        quote! { let __keys = __raw.object_keys().unwrap_or_default(); }
    } else {
        quote! { let __keys: ::std::vec::Vec<::std::string::String> = ::std::vec::Vec::new(); let _ = &__keys; }
    };
    let msg = format!("{name}: expected {}", described.join(" or "));
    Ok(quote! {
        impl<'de> ::serde::Deserialize<'de> for #ty {
            fn deserialize<__D: ::serde::Deserializer<'de>>(__d: __D) -> ::core::result::Result<Self, __D::Error> {
                let __raw = <::brainstem::RawJson as ::serde::Deserialize>::deserialize(__d)?;
                let __first = ::brainstem::tolerant::first_byte(&__raw);
                #keys_init
                #(#checks)*
                ::core::result::Result::Err(<__D::Error as ::serde::de::Error>::custom(#msg))
            }
        }
    })
}
