//! Model metadata generated from the spec: what the generic client, the
//! stand-in server and the command-line tool know about each model.
//!
//! Every value here comes from `schema/brainstem.openapi.json` through
//! `build.rs`; nothing is written per model by hand. Each field links to its
//! typed schema ([`FieldMeta::schema`], see [`crate::schema`]).

use std::fmt;
use std::str::FromStr;

pub use crate::models::Operation;
use crate::schema::{Component, Schema};

/// How a model's records are identified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdKind {
    /// A UUID string (most models).
    Uuid,
    /// An integer (users, groups and their kin).
    Integer,
}

/// The kind of value a field holds (for arrays: the kind of each element).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldKind {
    /// A UUID string.
    Uuid,
    /// An integer.
    Integer,
    /// A floating-point number.
    Number,
    /// `true` / `false`.
    Boolean,
    /// Free text.
    Text,
    /// An ISO 8601 date.
    Date,
    /// An ISO 8601 date-time.
    DateTime,
    /// One of a listed set of strings.
    Choice,
    /// A structured JSON value.
    Json,
}

/// One field of a model.
#[derive(Debug)]
pub struct FieldMeta {
    /// JSON name.
    pub name: &'static str,
    /// Value kind (element kind for arrays).
    pub kind: FieldKind,
    /// An array of `kind`.
    pub many: bool,
    /// Set by the server only; ignored in requests.
    pub read_only: bool,
    /// May be `null`.
    pub nullable: bool,
    /// Must be sent when creating.
    pub create_required: bool,
    /// Always present in responses.
    pub response_required: bool,
    /// Must be sent in a PATCH (`x-brainstem-patch-required`).
    pub patch_required: bool,
    /// No two records may share the value (the server refuses a duplicate).
    pub unique: bool,
    /// Writable on create only; updates ignore it (`x-brainstem-create-only`).
    pub create_only: bool,
    /// `app/model` of the related model, for relation fields.
    pub related: Option<&'static str>,
    /// The filter lookups the field accepts (`""` is the exact match).
    pub lookups: &'static [&'static str],
    /// Can be used in `sort[]`.
    pub sortable: bool,
    /// Can be used in `include[]`.
    pub includable: bool,
    /// The documented values of a choice field.
    pub choices: &'static [&'static str],
    /// The property's schema, as the spec writes it (not resolved: a `$ref`
    /// and its sibling keywords).
    pub schema: &'static Schema,
}

/// The HTTP method of an [`Operation`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HttpMethod {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
}

impl HttpMethod {
    /// The method's name (`GET`).
    pub const fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
        }
    }

    /// Whether sending it twice has the effect of sending it once (`GET`,
    /// `PUT`, `DELETE`).
    pub const fn is_idempotent(self) -> bool {
        matches!(self, HttpMethod::Get | HttpMethod::Put | HttpMethod::Delete)
    }
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The operations of the API are the generated enum [`Operation`]; these are
/// the ways to name one by its `operationId`.
///
/// ```
/// use brainstem::Operation;
/// use brainstem::meta::HttpMethod;
/// let op: Operation = "session_list".parse().unwrap();
/// assert_eq!(op, Operation::SessionList);
/// assert_eq!(op.method(), HttpMethod::Get);
/// assert_eq!(op.path(), "/api/{portal}/stem/session/");
/// assert_eq!(op.model(), Some("stem/session"));
/// assert_eq!(op.to_string(), "session_list");
/// assert!("session_frobnicate".parse::<Operation>().is_err());
/// ```
impl Operation {
    /// The operation whose `operationId` is `id`.
    pub fn from_id(id: &str) -> Option<Operation> {
        Operation::ALL.iter().copied().find(|o| o.id() == id)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// An `operationId` the spec does not have.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("no operation `{0}` in the API")]
pub struct UnknownOperation(pub String);

impl FromStr for Operation {
    type Err = UnknownOperation;
    fn from_str(s: &str) -> Result<Operation, UnknownOperation> {
        Operation::from_id(s).ok_or_else(|| UnknownOperation(s.to_string()))
    }
}

/// The approval queue of an approval-gated model.
#[derive(Debug)]
pub struct ApprovalMeta {
    /// `app/model` of the approval endpoint (`taxonomies/speciesapproval`).
    pub model: &'static str,
    /// Component schema of an approval record.
    pub schema: &'static str,
    /// Envelope key of one approval.
    pub one: &'static str,
    /// Envelope key of a list of approvals.
    pub many: &'static str,
    /// `GET` the queue.
    pub list: Option<Operation>,
    /// `GET` one proposal.
    pub retrieve: Option<Operation>,
    /// Accept a proposal.
    pub accept: Option<Operation>,
    /// Reject a proposal.
    pub reject: Option<Operation>,
    /// How approval records are identified.
    pub id: IdKind,
    /// The fields of an approval record (its schema's properties, in spec
    /// order, classified like a model's).
    pub fields: &'static [FieldMeta],
}

impl ApprovalMeta {
    /// The approval schema.
    pub fn component(&self) -> &'static Component {
        crate::schema::component(self.schema).expect("build.rs emits every component")
    }
}

/// What the official Python tool's `load_<model>` helper does for a model.
#[derive(Debug)]
pub struct LoaderMeta {
    /// Relations included unless the caller says otherwise.
    pub default_include: &'static [&'static str],
    /// Named shortcuts: (keyword, dynamic-rest filter key).
    pub filters: &'static [(&'static str, &'static str)],
}

/// A typed payload slot: a selector field and the payload it chooses.
#[derive(Debug)]
pub struct DetailsSlotMeta {
    /// Schema group (`Procedure`, `Coordinates`, ...).
    pub group: &'static str,
    /// The selector field (`type`, `coordinates_system`).
    pub tag: &'static str,
    /// The payload field (`details`, `coordinates_details`).
    pub content: &'static str,
}

/// Everything known about one model.
#[derive(Debug)]
pub struct ModelMeta {
    /// Component schema name and Rust type name (`Session`).
    pub schema: &'static str,
    /// URL app (`stem`).
    pub app: &'static str,
    /// URL model name (`session`).
    pub name: &'static str,
    /// Envelope key of one record (`session`).
    pub one: &'static str,
    /// Envelope key of a list (`sessions`).
    pub many: &'static str,
    /// Id kind.
    pub id: IdKind,
    /// One-line description.
    pub description: &'static str,
    /// Fields, in spec order.
    pub fields: &'static [FieldMeta],
    /// Every operation on this model (actions and relation routes too), in
    /// operationId order.
    pub ops: &'static [Operation],
    /// `GET` the collection.
    pub list: Option<Operation>,
    /// `GET` one record.
    pub retrieve: Option<Operation>,
    /// `POST` a new record.
    pub create: Option<Operation>,
    /// `PATCH` a record.
    pub partial_update: Option<Operation>,
    /// `PUT` a whole record.
    pub update: Option<Operation>,
    /// `DELETE` a record.
    pub destroy: Option<Operation>,
    /// The named actions on a record (`accept`, `join`, `add_entry`, ...).
    pub actions: &'static [Operation],
    /// Approval queue, for approval-gated models.
    pub approval: Option<ApprovalMeta>,
    /// The Python tool's convenience loader, if it has one.
    pub loader: Option<LoaderMeta>,
    /// Typed payload slots.
    pub details: &'static [DetailsSlotMeta],
}

impl ModelMeta {
    /// `app/model`, as used in `x-brainstem-related`.
    pub fn path(&self) -> String {
        format!("{}/{}", self.app, self.name)
    }

    /// The model's component schema.
    pub fn component(&self) -> &'static Component {
        crate::schema::component(self.schema).expect("build.rs emits every component")
    }

    /// A field by JSON name.
    pub fn field(&self, name: &str) -> Option<&'static FieldMeta> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The action named `name` (`accept`, `add_entry`, ...), if the model has it.
    pub fn action(&self, name: &str) -> Option<Operation> {
        self.actions
            .iter()
            .copied()
            .find(|o| o.action() == Some(name))
    }

    /// Look a model up by its URL name (`session`, `dataacquisition`).
    pub fn find(name: &str) -> Option<&'static ModelMeta> {
        crate::models::MODELS
            .iter()
            .copied()
            .find(|m| m.name == name)
    }

    /// Look a model up by `app/model`.
    pub fn find_path(path: &str) -> Option<&'static ModelMeta> {
        let (app, name) = path.split_once('/')?;
        crate::models::MODELS
            .iter()
            .copied()
            .find(|m| m.app == app && m.name == name)
    }
}
