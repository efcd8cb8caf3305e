//! The trait that ties a generated record type to its metadata, so one
//! generic client (and one generic server) serves every model.

use std::fmt::{Debug, Display};
use std::hash::Hash;
use std::str::FromStr;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::meta::ModelMeta;
use crate::query::{Filter, IncludeField, SortField};
use crate::validate::Validate;

/// The id type of a model's records: [`uuid::Uuid`] or `i64`.
pub trait RecordId:
    Copy
    + Eq
    + Hash
    + Ord
    + Display
    + Debug
    + FromStr
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
    /// Read an id from a JSON value (a UUID string, or an integer).
    fn from_json(value: &serde_json::Value) -> Option<Self>;
}

impl RecordId for uuid::Uuid {
    fn from_json(value: &serde_json::Value) -> Option<Self> {
        value.as_str().and_then(|s| s.parse().ok())
    }
}

impl RecordId for i64 {
    fn from_json(value: &serde_json::Value) -> Option<Self> {
        value
            .as_i64()
            .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
    }
}

/// A BrainSTEM model: a record type generated from the spec, with its shapes,
/// query enums and metadata.
///
/// Implemented by build.rs for all models; you do not implement it yourself.
///
/// ```
/// use brainstem::{Model, types::Session};
/// assert_eq!(Session::META.name, "session");
/// assert_eq!(Session::META.many, "sessions");
/// ```
pub trait Model:
    Serialize + DeserializeOwned + Clone + Debug + PartialEq + Send + Sync + 'static
{
    /// Record id type.
    type Id: RecordId;
    /// The create shape (`NewSession`).
    type New: Serialize + DeserializeOwned + Validate + Clone + Debug + Send + Sync + 'static;
    /// The patch shape (`SessionPatch`).
    type Patch: Serialize + DeserializeOwned + Validate + Clone + Debug + Send + Sync + 'static;
    /// Typed filters.
    type Filter: Filter + Clone + Debug + Send + Sync + 'static;
    /// Sortable fields.
    type Sort: SortField
        + FromStr<Err = crate::query::UnknownField>
        + Copy
        + Debug
        + Send
        + Sync
        + 'static;
    /// Includable relations.
    type Include: IncludeField
        + FromStr<Err = crate::query::UnknownField>
        + Copy
        + Debug
        + Send
        + Sync
        + 'static;
    /// The approval record of an approval-gated model, else [`NotApprovalGated`].
    type Approval: Serialize + DeserializeOwned + Clone + Debug + Send + Sync + 'static;
    /// Metadata from the spec.
    const META: &'static ModelMeta;
    /// The record's id.
    fn record_id(&self) -> Self::Id;
    /// Call `f` on every [`Related`](crate::Related) value of the relation
    /// field named `field` (JSON name); `false` when the model has no such
    /// relation. Generated per model; used to mark includes the server did
    /// not fill in.
    #[doc(hidden)]
    fn visit_related_mut(
        &mut self,
        field: &str,
        f: &mut dyn FnMut(&mut dyn crate::related::RelatedSlot),
    ) -> bool {
        let _ = (field, f);
        false
    }
}

/// The approval type of models whose writes apply immediately. It has no
/// values: decoding one always fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum NotApprovalGated {}

impl<'de> serde::Deserialize<'de> for NotApprovalGated {
    fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        Err(serde::de::Error::custom(
            "this model is not approval-gated, so no approval record was expected",
        ))
    }
}

/// Which side of BrainSTEM a request goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Portal {
    /// Your own data; needs a token.
    #[default]
    Private,
    /// Data made public by its owners; read-only, no token needed.
    Public,
}

impl Portal {
    /// The URL segment (`private` / `public`).
    pub fn as_str(self) -> &'static str {
        match self {
            Portal::Private => "private",
            Portal::Public => "public",
        }
    }
}

impl Display for Portal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Portal {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "private" => Ok(Portal::Private),
            "public" => Ok(Portal::Public),
            other => Err(format!(
                "unknown portal {other:?}: use \"private\" or \"public\""
            )),
        }
    }
}

/// Code generic over the model, chosen by name at run time with
/// [`models::with_model`](crate::models::with_model).
///
/// ```
/// use brainstem::{Model, ModelVisitor};
/// struct Many;
/// impl ModelVisitor for Many {
///     type Output = &'static str;
///     fn visit<M: Model>(self) -> &'static str { M::META.many }
/// }
/// assert_eq!(brainstem::models::with_model("session", Many), Some("sessions"));
/// assert_eq!(brainstem::models::with_model("nope", Many), None);
/// ```
pub trait ModelVisitor {
    /// What the visit returns.
    type Output;
    /// Called with the chosen model's record type.
    fn visit<M: Model>(self) -> Self::Output;
}
