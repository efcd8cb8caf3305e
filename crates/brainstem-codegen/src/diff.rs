//! What changes in the generated Rust API when the spec changes.
//!
//! [`diff`] reads two OpenAPI documents the way the generator does (the same
//! [`crate::spec`], [`crate::shapes`], [`crate::names`], lookup and typify
//! passes [`crate::generate`] runs, stopped before formatting) and compares
//! what each would generate: the types and their fields, the constructors,
//! the enum variants, the per-model filter / sort / include enums, the
//! typed loaders, the models' accessors and the `Operation` enum. Each
//! [`Change`] names the Rust item (`Subject.birth_date`,
//! `SessionFilter::NameIcontains`, `Operation::SessionDestroy`) and says
//! whether it breaks code written against the old API.
//!
//! ```
//! let spec: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(
//!     concat!(env!("CARGO_MANIFEST_DIR"), "/../../schema/brainstem.openapi.json"),
//! )?)?;
//! let mut edited = spec.clone();
//! let props = &mut edited["components"]["schemas"]["Subject"]["properties"];
//! props.as_object_mut().unwrap().remove("birth_date");
//! let diff = brainstem_codegen::diff::diff(&spec, &edited)?;
//! assert!(diff.is_breaking());
//! assert!(diff.to_string().contains(
//!     "breaking: field `Subject.birth_date` removed (was `Option<NaiveDate>`)"
//! ));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Breaking or compatible
//!
//! A change is *breaking* when code that compiled (or ran correctly)
//! against the old generated API may not against the new one:
//!
//! * a removed model, type, field, constructor, enum variant, filter, sort
//!   key, include key, loader method or operation;
//! * a field whose type changed (`String` → `i64`, `T` → `Option<T>`), and a
//!   filter or loader method whose value type changed;
//! * a constructor (`NewSubject::new`, the payload constructors) that takes
//!   other required fields (named in its `*Required` struct): a field added
//!   as required, a field that became required or optional;
//! * a new variant of a *closed* enum (typify's unions such as
//!   `ExtraFieldsValue` or `DeviceTokenResponse`): an exhaustive `match`
//!   needs a new arm;
//! * a variant of an open enum that now stands for another value, a model
//!   whose accessor, URL name, id type or approval type changed.
//!
//! It is *compatible* otherwise:
//!
//! * a new model (with its shapes, filters and operations), type, or
//!   optional field; a record field the server now always (or no longer
//!   always) sends when its Rust type stays the same;
//! * a new variant of an *open* enum (one with an `Unknown` fallback: the
//!   `enums::*` value lists and the `*Details` payload groups);
//! * a new filter, sort key, include key, loader method or `Operation`
//!   variant: those enums are catalogues users build values from, and
//!   adding to them is how a spec grows (code that `match`es exhaustively on
//!   `Operation` or a filter enum would need a new arm; none of the SDK's
//!   documented uses does);
//! * an operation whose method or path changed (the generated client
//!   follows it), `info.version` and the docs revision.
//!
//! The generated structs are exhaustive (all fields public, no
//! `#[non_exhaustive]`), so a struct literal naming every field stops
//! compiling whenever a field is added. The SDK's documented ways to build
//! them are the constructors (`NewSession::new(NewSessionRequired { .. })`,
//! which take the required fields only, by name), `..Default::default()` on the patch shapes, and
//! decoding, none of which a new optional field disturbs; so a new optional
//! field is reported as compatible, and a new *required* field of a struct
//! with a constructor as breaking.
//!
//! Renames show as a removal and an addition. When a struct loses exactly
//! one field and gains exactly one of the same type, both lines carry a
//! "perhaps renamed" hint; nothing beyond that is guessed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use quote::ToTokens;
use serde_json::Value;

use crate::emit;
use crate::names;
use crate::spec::IdKind;

/// What kind of Rust item a [`Change`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeKind {
    /// `SCHEMA_VERSION` or `DOCS_REVISION` (`info.version`, the docs revision).
    Version,
    /// A model: its record type, shapes, accessor on the client and operations.
    Model,
    /// A type of `brainstem::types` (or `details`) that is not a model's own shape.
    Type,
    /// A field of a generated struct.
    Field,
    /// A constructor (`NewSession::new`, a payload's `new`).
    Constructor,
    /// A variant of an enum: open (`enums::*`, `*Details`) or closed (typify's unions).
    Variant,
    /// A variant of a model's `<Model>Filter`.
    Filter,
    /// A variant of a model's `<Model>Sort`.
    Sort,
    /// A variant of a model's `<Model>Include`.
    Include,
    /// A typed loader (`Client::load_session`) or one of its `by_<keyword>` methods.
    Loader,
    /// A variant of `Operation`.
    Operation,
}

impl ChangeKind {
    /// How the kind reads in a change line (`field`, `filter`, ...).
    pub fn label(self) -> &'static str {
        match self {
            ChangeKind::Version => "version",
            ChangeKind::Model => "model",
            ChangeKind::Type => "type",
            ChangeKind::Field => "field",
            ChangeKind::Constructor => "constructor",
            ChangeKind::Variant => "variant",
            ChangeKind::Filter => "filter",
            ChangeKind::Sort => "sort key",
            ChangeKind::Include => "include",
            ChangeKind::Loader => "loader",
            ChangeKind::Operation => "operation",
        }
    }
}

/// One change of the generated API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub kind: ChangeKind,
    /// The Rust item, as a path (`Subject.birth_date`, `LengthUnit::Nanometre`,
    /// `Operation::SessionDestroy`, `NewSubject::new`).
    pub subject: String,
    /// Whether code written against the old API may break (see the module docs).
    pub breaking: bool,
    /// What happened to it (``removed (was `Option<NaiveDate>`)``).
    pub detail: String,
}

impl Change {
    fn new(kind: ChangeKind, subject: impl Into<String>, breaking: bool, detail: String) -> Self {
        Change {
            kind,
            subject: subject.into(),
            breaking,
            detail,
        }
    }

    fn verdict(&self) -> &'static str {
        if self.breaking {
            "breaking"
        } else {
            "compatible"
        }
    }
}

impl fmt::Display for Change {
    /// ``breaking: field `Subject.birth_date` removed (was `Option<NaiveDate>`)``
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} `{}` {}",
            self.verdict(),
            self.kind.label(),
            self.subject,
            self.detail
        )
    }
}

/// Every change between two specs, in a stable order (versions, models,
/// types and fields, enums, filters / sort / include keys, loaders,
/// operations; by name within each).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diff {
    /// `info.version` of the old spec.
    pub old_version: String,
    /// `info.version` of the new spec.
    pub new_version: String,
    pub changes: Vec<Change>,
}

impl Diff {
    /// Whether any change is breaking.
    pub fn is_breaking(&self) -> bool {
        self.changes.iter().any(|c| c.breaking)
    }

    /// The breaking changes.
    pub fn breaking(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.breaking)
    }

    /// The compatible changes.
    pub fn compatible(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| !c.breaking)
    }

    /// The changes as Markdown, for release notes: a heading, then the
    /// breaking and the compatible changes as two lists.
    pub fn markdown(&self) -> String {
        let mut s = if self.old_version == self.new_version {
            format!("## API changes (schema {})\n", self.old_version)
        } else {
            format!(
                "## API changes (schema {} → {})\n",
                self.old_version, self.new_version
            )
        };
        if self.changes.is_empty() {
            s.push_str("\nNo changes to the generated API.\n");
            return s;
        }
        for (title, breaking) in [("Breaking", true), ("Compatible", false)] {
            let items: Vec<&Change> = self
                .changes
                .iter()
                .filter(|c| c.breaking == breaking)
                .collect();
            if items.is_empty() {
                continue;
            }
            s.push_str(&format!("\n### {title}\n\n"));
            for c in items {
                s.push_str(&format!(
                    "- {} `{}` {}\n",
                    c.kind.label(),
                    c.subject,
                    c.detail
                ));
            }
        }
        s
    }
}

impl fmt::Display for Diff {
    /// One change per line (nothing for no changes).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.changes {
            writeln!(f, "{c}")?;
        }
        Ok(())
    }
}

/// Which of the two specs a [`DiffError`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Old,
    New,
}

/// A spec the generator cannot read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffError {
    pub side: Side,
    pub message: String,
}

impl fmt::Display for DiffError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = match self.side {
            Side::Old => "old",
            Side::New => "new",
        };
        write!(f, "the {side} spec: {}", self.message)
    }
}

impl std::error::Error for DiffError {}

/// Compare what two specs generate. Fails when the generator would refuse
/// either of them.
pub fn diff(old: &Value, new: &Value) -> Result<Diff, DiffError> {
    let old = Surface::read(old).map_err(|message| DiffError {
        side: Side::Old,
        message,
    })?;
    let new = Surface::read(new).map_err(|message| DiffError {
        side: Side::New,
        message,
    })?;
    Ok(compare(&old, &new))
}

/// A type as a user writes it: every path cut to its last segment
/// (`::std::option::Option<::chrono::naive::NaiveDate>` -> `Option<NaiveDate>`).
pub fn short_type(tokens: &proc_macro2::TokenStream) -> String {
    match syn::parse2::<syn::Type>(tokens.clone()) {
        Ok(t) => render_type(&t),
        Err(_) => tokens.to_string().replace(' ', ""),
    }
}

fn render_type(t: &syn::Type) -> String {
    match t {
        syn::Type::Path(p) => render_path(&p.path),
        syn::Type::Tuple(tu) => {
            let parts: Vec<String> = tu.elems.iter().map(render_type).collect();
            format!("({})", parts.join(", "))
        }
        syn::Type::Array(a) => format!(
            "[{}; {}]",
            render_type(&a.elem),
            a.len.to_token_stream().to_string().replace(' ', "")
        ),
        syn::Type::Slice(s) => format!("[{}]", render_type(&s.elem)),
        syn::Type::Reference(r) => format!(
            "&{}{}",
            if r.mutability.is_some() { "mut " } else { "" },
            render_type(&r.elem)
        ),
        syn::Type::Paren(p) => render_type(&p.elem),
        syn::Type::Group(g) => render_type(&g.elem),
        other => other.to_token_stream().to_string().replace(' ', ""),
    }
}

fn render_path(p: &syn::Path) -> String {
    let Some(last) = p.segments.last() else {
        return String::new();
    };
    let mut s = last.ident.to_string();
    if let syn::PathArguments::AngleBracketed(args) = &last.arguments {
        let parts: Vec<String> = args
            .args
            .iter()
            .map(|a| match a {
                syn::GenericArgument::Type(t) => render_type(t),
                other => other.to_token_stream().to_string().replace(' ', ""),
            })
            .collect();
        s.push('<');
        s.push_str(&parts.join(", "));
        s.push('>');
    }
    s
}

/// One field of a generated struct.
#[derive(Clone, Debug, PartialEq, Eq)]
struct FieldFacts {
    rust: String,
    required: bool,
    ty: String,
}

/// How users meet an enum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EnumRole {
    /// Has an `Unknown` fallback.
    Open,
    /// typify's: every variant is known.
    Closed,
    Filter,
    Sort,
    Include,
}

struct EnumFacts {
    role: EnumRole,
    /// variant -> what it holds or stands for (a value, a payload type)
    variants: BTreeMap<String, String>,
    /// the model it belongs to (filter / sort / include enums)
    model: Option<String>,
}

struct ModelFacts {
    accessor: String,
    path: String,
    id: IdKind,
    approval: Option<String>,
    /// the types that come and go with the model
    own_types: Vec<String>,
    /// `load_<url>` and its `by_<keyword>` methods with their value types
    loader: Option<(String, BTreeMap<String, String>)>,
    ops: usize,
}

/// What a spec generates, as far as users' code can see it.
struct Surface {
    version: String,
    docs_revision: String,
    models: BTreeMap<String, ModelFacts>,
    structs: BTreeMap<String, Vec<FieldFacts>>,
    /// type -> the arguments of its `new` (name, type)
    ctors: BTreeMap<String, Vec<(String, String)>>,
    enums: BTreeMap<String, EnumFacts>,
    /// `Operation` variant -> (`METHOD /path`, model path)
    ops: BTreeMap<String, (String, Option<String>)>,
}

/// The inherent `new` functions among `items`: type name -> arguments. A
/// constructor that takes its required fields named (`new(required:
/// XRequired)`) counts that struct's fields as its arguments.
fn constructors(items: &[syn::Item], out: &mut BTreeMap<String, Vec<(String, String)>>) {
    let mut named: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for item in items {
        if let syn::Item::Struct(st) = item
            && st.ident.to_string().ends_with("Required")
        {
            let fields = st
                .fields
                .iter()
                .filter_map(|f| Some((f.ident.as_ref()?.to_string(), render_type(&f.ty))))
                .collect();
            named.insert(st.ident.to_string(), fields);
        }
    }
    for item in items {
        let syn::Item::Impl(i) = item else { continue };
        if i.trait_.is_some() {
            continue;
        }
        let syn::Type::Path(p) = &*i.self_ty else {
            continue;
        };
        let Some(name) = p.path.segments.last().map(|s| s.ident.to_string()) else {
            continue;
        };
        for it in &i.items {
            let syn::ImplItem::Fn(f) = it else { continue };
            if f.sig.ident != "new" {
                continue;
            }
            let args = f
                .sig
                .inputs
                .iter()
                .filter_map(|a| match a {
                    syn::FnArg::Typed(t) => {
                        Some((t.pat.to_token_stream().to_string(), render_type(&t.ty)))
                    }
                    syn::FnArg::Receiver(_) => None,
                })
                .collect::<Vec<(String, String)>>();
            let args = match args.as_slice() {
                [(_, ty)] if named.contains_key(ty.trim_matches('`')) => {
                    named[ty.trim_matches('`')].clone()
                }
                _ => args,
            };
            out.insert(name.clone(), args);
        }
    }
}

fn parse_items(ts: proc_macro2::TokenStream, what: &str) -> Result<Vec<syn::Item>, String> {
    syn::parse2::<syn::File>(ts)
        .map(|f| f.items)
        .map_err(|e| format!("generated {what} does not parse: {e}"))
}

/// What a closed enum's variant holds, quoted (`` `bool` ``); empty for a unit variant.
fn render_fields(fields: &syn::Fields) -> String {
    match fields {
        syn::Fields::Unit => String::new(),
        syn::Fields::Unnamed(u) => {
            let parts: Vec<String> = u.unnamed.iter().map(|f| render_type(&f.ty)).collect();
            if parts.len() == 1 {
                format!("`{}`", parts[0])
            } else {
                format!("`({})`", parts.join(", "))
            }
        }
        syn::Fields::Named(n) => {
            let parts: Vec<String> = n
                .named
                .iter()
                .map(|f| {
                    format!(
                        "{}: {}",
                        f.ident.as_ref().map(|i| i.to_string()).unwrap_or_default(),
                        render_type(&f.ty)
                    )
                })
                .collect();
            format!("`{{ {} }}`", parts.join(", "))
        }
    }
}

fn operations(n: usize) -> String {
    if n == 1 {
        "1 operation".to_string()
    } else {
        format!("{n} operations")
    }
}

impl Surface {
    fn read(spec: &Value) -> Result<Surface, String> {
        let p = crate::prepare(spec, false)?;
        let api = &p.api;

        let mut structs = BTreeMap::new();
        for (name, fields) in &p.type_fields {
            structs.insert(
                name.clone(),
                fields
                    .iter()
                    .map(|(rust, required, ty)| FieldFacts {
                        rust: rust.clone(),
                        required: *required,
                        ty: short_type(ty),
                    })
                    .collect(),
            );
        }

        // typify's newtypes (`ExtraFields(Map<..>)`): their one field is `0`
        for item in &p.types_file.items {
            if let syn::Item::Struct(st) = item
                && let syn::Fields::Unnamed(u) = &st.fields
                && u.unnamed.len() == 1
            {
                structs.entry(st.ident.to_string()).or_insert_with(|| {
                    vec![FieldFacts {
                        rust: "0".to_string(),
                        required: true,
                        ty: render_type(&u.unnamed[0].ty),
                    }]
                });
            }
        }

        // constructors, wherever the generator puts them
        let mut ctors = BTreeMap::new();
        constructors(&p.types_file.items, &mut ctors);
        let docs = emit::field_docs(&p.types_file.items);
        constructors(
            &parse_items(
                emit::constructors(api, &p.groups, &p.type_fields, &docs, &p.optional_bits)?,
                "constructors",
            )?,
            &mut ctors,
        );

        let mut enums = BTreeMap::new();
        for e in p.enums.values() {
            let variants = e
                .variant_names()
                .into_iter()
                .zip(&e.values)
                .map(|(v, value)| (v, format!("`{value}`")))
                .collect();
            enums.insert(
                e.name.clone(),
                EnumFacts {
                    role: EnumRole::Open,
                    variants,
                    model: None,
                },
            );
        }
        for g in &p.groups {
            let values: Vec<String> = g.types.iter().map(|(t, _, _)| t.clone()).collect();
            let variants = names::variants(&values)
                .into_iter()
                .zip(&g.types)
                .map(|(v, (t, _, comp))| (v, format!("`{t}`, `{}`", names::pascal(comp))))
                .collect();
            enums.insert(
                g.enum_name(),
                EnumFacts {
                    role: EnumRole::Open,
                    variants,
                    model: None,
                },
            );
        }
        for item in &p.types_file.items {
            if let syn::Item::Enum(e) = item {
                let variants = e
                    .variants
                    .iter()
                    .map(|v| (v.ident.to_string(), render_fields(&v.fields)))
                    .collect();
                enums.insert(
                    e.ident.to_string(),
                    EnumFacts {
                        role: EnumRole::Closed,
                        variants,
                        model: None,
                    },
                );
            }
        }

        let mut models = BTreeMap::new();
        for m in &api.models {
            let path = m.path();
            let filters = emit::filter_variants(spec, api, m)
                .into_iter()
                .map(|(_, _, v, payload)| {
                    let ty = short_type(&payload);
                    // `(T)` -> `T`; a range stays a pair
                    let ty = match ty.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
                        Some(inner) if !inner.contains(", ") => inner.to_string(),
                        _ => ty,
                    };
                    (v.to_string(), format!("`{ty}`"))
                })
                .collect();
            let sorts = emit::sortable(m)
                .map(|f| (names::pascal(&f.json), format!("`{}`", f.json)))
                .collect();
            let includes = emit::includable(api, m)
                .into_iter()
                .map(|f| (names::pascal(&f.json), format!("`{}`", f.json)))
                .collect();
            for (suffix, role, variants) in [
                ("Filter", EnumRole::Filter, filters),
                ("Sort", EnumRole::Sort, sorts),
                ("Include", EnumRole::Include, includes),
            ] {
                enums.insert(
                    format!("{}{suffix}", m.schema),
                    EnumFacts {
                        role,
                        variants,
                        model: Some(m.schema.clone()),
                    },
                );
            }
            let loader = m.loader.as_ref().map(|l| {
                let methods = l
                    .filters
                    .iter()
                    .map(|(keyword, key)| {
                        let field_name = key.split('.').next().unwrap_or(key);
                        let ty = match m.fields.iter().find(|f| f.json == field_name) {
                            Some(f) => short_type(&emit::value_type(spec, m, f, api)),
                            None => "String".to_string(),
                        };
                        (format!("by_{}", names::field(keyword)), ty)
                    })
                    .collect();
                (format!("load_{}", m.url), methods)
            });
            let mut own_types = vec![
                m.schema.clone(),
                m.new_name(),
                m.patch_name(),
                format!("{}Filter", m.schema),
                format!("{}Sort", m.schema),
                format!("{}Include", m.schema),
            ];
            for suffix in ["Envelope", "ListEnvelope", "SaveEnvelope"] {
                own_types.push(format!("{}{suffix}", m.schema));
            }
            if let Some(a) = &m.approval {
                own_types.push(a.schema.clone());
                for suffix in ["Envelope", "ListEnvelope"] {
                    own_types.push(format!("{}{suffix}", a.schema));
                }
            }
            models.insert(
                m.schema.clone(),
                ModelFacts {
                    accessor: emit::accessor_name(m),
                    path: path.clone(),
                    id: m.id,
                    approval: m.approval.as_ref().map(|a| a.schema.clone()),
                    own_types,
                    loader,
                    ops: api.ops_of(&path).count(),
                },
            );
        }

        let ops = api
            .ops
            .iter()
            .map(|o| {
                (
                    emit::op_variant(api, &o.id).to_string(),
                    (format!("{} {}", o.method, o.path), o.model.clone()),
                )
            })
            .collect();

        Ok(Surface {
            version: api.version.clone(),
            docs_revision: api.docs_revision.clone(),
            models,
            structs,
            ctors,
            enums,
            ops,
        })
    }
}

fn id_type(id: IdKind) -> &'static str {
    match id {
        IdKind::Uuid => "Uuid",
        IdKind::Integer => "i64",
    }
}

fn compare(old: &Surface, new: &Surface) -> Diff {
    let mut out = Vec::new();
    use ChangeKind as K;

    // versions
    for (name, a, b) in [
        ("SCHEMA_VERSION", &old.version, &new.version),
        ("DOCS_REVISION", &old.docs_revision, &new.docs_revision),
    ] {
        if a != b {
            out.push(Change::new(
                K::Version,
                name,
                false,
                format!("changed `{a}` → `{b}`"),
            ));
        }
    }

    // models: added and removed ones carry their own shapes and operations
    let mut folded: BTreeSet<String> = BTreeSet::new();
    let mut folded_models: BTreeSet<String> = BTreeSet::new();
    for name in keys(&old.models, &new.models) {
        match (old.models.get(name), new.models.get(name)) {
            (Some(m), None) => {
                folded_models.insert(m.path.clone());
                folded.extend(
                    m.own_types
                        .iter()
                        .filter(|t| !new.structs.contains_key(*t) && !new.enums.contains_key(*t))
                        .cloned(),
                );
                out.push(Change::new(
                    K::Model,
                    name,
                    true,
                    format!("removed (client.{}(), {})", m.accessor, operations(m.ops)),
                ));
            }
            (None, Some(m)) => {
                folded_models.insert(m.path.clone());
                folded.extend(
                    m.own_types
                        .iter()
                        .filter(|t| !old.structs.contains_key(*t) && !old.enums.contains_key(*t))
                        .cloned(),
                );
                out.push(Change::new(
                    K::Model,
                    name,
                    false,
                    format!("added (client.{}(), {})", m.accessor, operations(m.ops)),
                ));
            }
            (Some(a), Some(b)) => {
                if a.accessor != b.accessor {
                    out.push(Change::new(
                        K::Model,
                        name,
                        true,
                        format!(
                            "accessor renamed `client.{}()` → `client.{}()`",
                            a.accessor, b.accessor
                        ),
                    ));
                }
                if a.path != b.path {
                    out.push(Change::new(
                        K::Model,
                        name,
                        true,
                        format!("URL name changed `{}` → `{}`", a.path, b.path),
                    ));
                }
                if a.id != b.id {
                    out.push(Change::new(
                        K::Model,
                        name,
                        true,
                        format!("id type changed `{}` → `{}`", id_type(a.id), id_type(b.id)),
                    ));
                }
                if a.approval != b.approval {
                    let show = |x: &Option<String>| {
                        x.clone().unwrap_or_else(|| "NotApprovalGated".to_string())
                    };
                    out.push(Change::new(
                        K::Model,
                        name,
                        true,
                        format!(
                            "approval type changed `{}` → `{}`",
                            show(&a.approval),
                            show(&b.approval)
                        ),
                    ));
                }
            }
            (None, None) => {}
        }
    }

    // types and their fields, constructors
    for name in keys(&old.structs, &new.structs) {
        if folded.contains(name) {
            continue;
        }
        match (old.structs.get(name), new.structs.get(name)) {
            (Some(_), None) => {
                if !new.enums.contains_key(name) {
                    out.push(Change::new(K::Type, name, true, "removed".into()));
                }
            }
            (None, Some(_)) => {
                if !old.enums.contains_key(name) {
                    out.push(Change::new(K::Type, name, false, "added".into()));
                }
            }
            (Some(a), Some(b)) => compare_fields(
                name,
                a,
                b,
                old.ctors.get(name),
                new.ctors.get(name),
                &mut out,
            ),
            (None, None) => {}
        }
    }
    // a type that turned from a struct into an enum (or back)
    for name in keys(&old.structs, &new.enums) {
        if old.structs.contains_key(name) && new.enums.contains_key(name) {
            out.push(Change::new(
                K::Type,
                name,
                true,
                "changed from a struct to an enum".into(),
            ));
        }
    }
    for name in keys(&old.enums, &new.structs) {
        if old.enums.contains_key(name) && new.structs.contains_key(name) {
            out.push(Change::new(
                K::Type,
                name,
                true,
                "changed from an enum to a struct".into(),
            ));
        }
    }

    // enums
    for name in keys(&old.enums, &new.enums) {
        if folded.contains(name) {
            continue;
        }
        let (a, b) = (old.enums.get(name), new.enums.get(name));
        let role = b.or(a).map(|e| e.role).unwrap_or(EnumRole::Closed);
        let kind = match role {
            EnumRole::Open | EnumRole::Closed => K::Variant,
            EnumRole::Filter => K::Filter,
            EnumRole::Sort => K::Sort,
            EnumRole::Include => K::Include,
        };
        match (a, b) {
            (Some(_), None) => {
                if kind == K::Variant && !new.structs.contains_key(name) {
                    out.push(Change::new(K::Type, name, true, "removed".into()));
                }
            }
            (None, Some(_)) => {
                if kind == K::Variant && !old.structs.contains_key(name) {
                    out.push(Change::new(K::Type, name, false, "added".into()));
                }
            }
            (Some(a), Some(b)) => {
                if a.model != b.model {
                    continue;
                }
                compare_variants(name, kind, a, b, &mut out);
            }
            (None, None) => {}
        }
    }

    // typed loaders
    for name in keys(&old.models, &new.models) {
        let (Some(a), Some(b)) = (old.models.get(name), new.models.get(name)) else {
            continue;
        };
        match (&a.loader, &b.loader) {
            (Some((load, _)), None) => out.push(Change::new(
                K::Loader,
                format!("Client::{load}"),
                true,
                "removed".into(),
            )),
            (None, Some((load, _))) => out.push(Change::new(
                K::Loader,
                format!("Client::{load}"),
                false,
                "added".into(),
            )),
            (Some((la, ma)), Some((lb, mb))) => {
                if la != lb {
                    out.push(Change::new(
                        K::Loader,
                        format!("Client::{la}"),
                        true,
                        format!("renamed to `Client::{lb}`"),
                    ));
                }
                for method in keys(ma, mb) {
                    let subject = format!("ListRequest<{name}>::{method}");
                    match (ma.get(method), mb.get(method)) {
                        (Some(t), None) => out.push(Change::new(
                            K::Loader,
                            subject,
                            true,
                            format!("removed (took `{t}`)"),
                        )),
                        (None, Some(t)) => out.push(Change::new(
                            K::Loader,
                            subject,
                            false,
                            format!("added (`{t}`)"),
                        )),
                        (Some(t), Some(u)) if t != u => out.push(Change::new(
                            K::Loader,
                            subject,
                            true,
                            format!("value type changed `{t}` → `{u}`"),
                        )),
                        _ => {}
                    }
                }
            }
            (None, None) => {}
        }
    }

    // operations
    for name in keys(&old.ops, &new.ops) {
        let subject = format!("Operation::{name}");
        match (old.ops.get(name), new.ops.get(name)) {
            (Some((what, model)), None) => {
                if model.as_ref().is_some_and(|m| folded_models.contains(m)) {
                    continue;
                }
                out.push(Change::new(
                    K::Operation,
                    subject,
                    true,
                    format!("removed (was `{what}`)"),
                ));
            }
            (None, Some((what, model))) => {
                if model.as_ref().is_some_and(|m| folded_models.contains(m)) {
                    continue;
                }
                out.push(Change::new(
                    K::Operation,
                    subject,
                    false,
                    format!("added (`{what}`)"),
                ));
            }
            (Some((a, _)), Some((b, _))) if a != b => out.push(Change::new(
                K::Operation,
                subject,
                false,
                format!("changed `{a}` → `{b}` (the client follows it)"),
            )),
            _ => {}
        }
    }

    // everything about one model together: its record, create and patch
    // shapes, query enums and loader, in that order
    let models: BTreeSet<&String> = keys(&old.models, &new.models);
    out.sort_by_cached_key(|c| place(c, &models));

    Diff {
        old_version: old.version.clone(),
        new_version: new.version.clone(),
        changes: out,
    }
}

/// Where a change goes in the list: versions first, operations last, and in
/// between by the model (or type) it is about, then by the shape of it.
fn place(c: &Change, models: &BTreeSet<&String>) -> (u8, String, u8) {
    match c.kind {
        ChangeKind::Version => return (0, String::new(), 0),
        ChangeKind::Operation => return (2, String::new(), 0),
        ChangeKind::Model => return (1, c.subject.clone(), 0),
        _ => {}
    }
    let subject = c.subject.as_str();
    let ty = subject
        .strip_prefix("ListRequest<")
        .and_then(|s| s.split_once('>'))
        .map(|(t, _)| t)
        .unwrap_or_else(|| subject.split(['.', ':']).next().unwrap_or(subject));
    let is_model = |n: &str| models.iter().any(|m| m.as_str() == n);
    if c.kind == ChangeKind::Loader {
        return (1, ty.to_string(), 6);
    }
    if is_model(ty) {
        return (1, ty.to_string(), 1);
    }
    if let Some(m) = ty.strip_prefix("New").filter(|m| is_model(m)) {
        return (1, m.to_string(), 2);
    }
    for (suffix, rank) in [("Patch", 3), ("Filter", 4), ("Sort", 5), ("Include", 6)] {
        if let Some(m) = ty.strip_suffix(suffix).filter(|m| is_model(m)) {
            return (1, m.to_string(), rank);
        }
    }
    (1, ty.to_string(), 1)
}

/// The keys of two maps, in order, each once.
fn keys<'a, A, B>(a: &'a BTreeMap<String, A>, b: &'a BTreeMap<String, B>) -> BTreeSet<&'a String> {
    a.keys().chain(b.keys()).collect()
}

fn compare_fields(
    name: &str,
    old: &[FieldFacts],
    new: &[FieldFacts],
    old_ctor: Option<&Vec<(String, String)>>,
    new_ctor: Option<&Vec<(String, String)>>,
    out: &mut Vec<Change>,
) {
    use ChangeKind as K;
    let takes = |ctor: Option<&Vec<(String, String)>>, f: &str| {
        ctor.is_some_and(|args| args.iter().any(|(a, _)| a == f))
    };
    let ctor_name = format!("{name}::new");
    let removed: Vec<&FieldFacts> = old
        .iter()
        .filter(|f| !new.iter().any(|g| g.rust == f.rust))
        .collect();
    let added: Vec<&FieldFacts> = new
        .iter()
        .filter(|f| !old.iter().any(|g| g.rust == f.rust))
        .collect();
    // the one cheap rename guess: one field out, one in, same type
    let rename = match (removed.as_slice(), added.as_slice()) {
        ([r], [a]) if r.ty == a.ty => Some((r.rust.clone(), a.rust.clone())),
        _ => None,
    };
    for f in &removed {
        let hint = match &rename {
            Some((_, to)) => format!("; perhaps renamed to `{to}`"),
            None => String::new(),
        };
        out.push(Change::new(
            K::Field,
            format!("{name}.{}", f.rust),
            true,
            format!("removed (was `{}`{hint})", f.ty),
        ));
    }
    for f in &added {
        let hint = match &rename {
            Some((from, _)) => format!("; perhaps renamed from `{from}`"),
            None => String::new(),
        };
        let subject = format!("{name}.{}", f.rust);
        if takes(new_ctor, &f.rust) {
            out.push(Change::new(
                K::Field,
                subject,
                true,
                format!(
                    "added as required (`{}`, a new argument of `{ctor_name}`{hint})",
                    f.ty
                ),
            ));
        } else {
            let how = if f.required { "" } else { " as optional" };
            out.push(Change::new(
                K::Field,
                subject,
                false,
                format!("added{how} (`{}`{hint})", f.ty),
            ));
        }
    }
    for a in old {
        let Some(b) = new.iter().find(|g| g.rust == a.rust) else {
            continue;
        };
        let subject = format!("{name}.{}", a.rust);
        let (was_arg, is_arg) = (takes(old_ctor, &a.rust), takes(new_ctor, &a.rust));
        if was_arg != is_arg && old_ctor.is_some() && new_ctor.is_some() {
            let (how, arg) = if is_arg {
                ("required", "now an argument")
            } else {
                ("optional", "no longer an argument")
            };
            let types = if a.ty == b.ty {
                format!("`{}`", b.ty)
            } else {
                format!("`{}` → `{}`", a.ty, b.ty)
            };
            out.push(Change::new(
                K::Field,
                subject,
                true,
                format!("became {how} ({types}; {arg} of `{ctor_name}`)"),
            ));
        } else if a.ty != b.ty {
            let how = match (a.required, b.required) {
                (false, true) => " (became required)",
                (true, false) => " (became optional)",
                _ => "",
            };
            out.push(Change::new(
                K::Field,
                subject,
                true,
                format!("type changed `{}` → `{}`{how}", a.ty, b.ty),
            ));
        } else if a.required != b.required {
            let how = if b.required { "required" } else { "optional" };
            out.push(Change::new(
                K::Field,
                subject,
                false,
                format!("became {how} (type `{}` unchanged)", b.ty),
            ));
        }
    }
    // constructors: appearing, disappearing
    match (old_ctor, new_ctor) {
        (Some(_), None) => out.push(Change::new(
            K::Constructor,
            ctor_name,
            true,
            "removed".into(),
        )),
        (None, Some(args)) => out.push(Change::new(
            K::Constructor,
            ctor_name,
            false,
            format!("added ({} arguments)", args.len()),
        )),
        // the required fields are named (`NewX::new(NewXRequired { .. })`):
        // their order does not matter, and added or changed ones are
        // reported with the fields above
        (Some(_), Some(_)) | (None, None) => {}
    }
}

fn compare_variants(
    name: &str,
    kind: ChangeKind,
    old: &EnumFacts,
    new: &EnumFacts,
    out: &mut Vec<Change>,
) {
    use ChangeKind as K;
    if old.role != new.role && kind == K::Variant {
        let word = |r: EnumRole| {
            if r == EnumRole::Open {
                "an open"
            } else {
                "a closed"
            }
        };
        out.push(Change::new(
            K::Type,
            name,
            true,
            format!(
                "changed from {} enum to {} one",
                word(old.role),
                word(new.role)
            ),
        ));
    }
    for v in keys(&old.variants, &new.variants) {
        let subject = format!("{name}::{v}");
        match (old.variants.get(v), new.variants.get(v)) {
            (Some(what), None) => {
                let what = if what.is_empty() {
                    String::new()
                } else {
                    format!(" (was {what})")
                };
                out.push(Change::new(kind, subject, true, format!("removed{what}")));
            }
            (None, Some(what)) => {
                let (breaking, to) = match new.role {
                    EnumRole::Open => (false, " to open enum"),
                    EnumRole::Closed => (true, " to closed enum: exhaustive matches need an arm"),
                    _ => (false, ""),
                };
                let what = if what.is_empty() {
                    String::new()
                } else {
                    format!(" ({what})")
                };
                out.push(Change::new(
                    kind,
                    subject,
                    breaking,
                    format!("added{to}{what}"),
                ));
            }
            (Some(a), Some(b)) if a != b => {
                let detail = match kind {
                    K::Filter => format!("value type changed {a} → {b}"),
                    K::Variant if new.role == EnumRole::Open => {
                        format!("now stands for {b} (was {a})")
                    }
                    _ => format!("changed {a} → {b}"),
                };
                out.push(Change::new(kind, subject, true, detail));
            }
            _ => {}
        }
    }
}
