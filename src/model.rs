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
    #[cfg(not(feature = "deserialize-writes"))]
    type New: Serialize + Validate + Clone + Debug + Send + Sync + 'static;
    /// The create shape (`NewSession`); `Deserialize` with the feature
    /// `deserialize-writes`.
    #[cfg(feature = "deserialize-writes")]
    type New: Serialize + DeserializeOwned + Validate + Clone + Debug + Send + Sync + 'static;
    /// The patch shape (`SessionPatch`).
    #[cfg(not(feature = "deserialize-writes"))]
    type Patch: Serialize + Validate + Clone + Debug + Send + Sync + 'static;
    /// The patch shape (`SessionPatch`); `Deserialize` with the feature
    /// `deserialize-writes`.
    #[cfg(feature = "deserialize-writes")]
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

/// Logs with entries (procedure logs, subject logs): what their entry
/// actions send, and the entries' `details` typed by the log's `type`.
/// Implemented by generated code for every model with an `add_entry`
/// action; the client's entry actions (`add_entry`, `change_entry`,
/// `remove_entry` on [`Api`](crate::client::Api)) take any such model.
///
/// The body of `add_entry` carries a typed payload
/// ([`Payload`](crate::details::Payload)), so a log entry's `details` is the
/// struct of a type of the log's group, never free-form JSON.
pub trait LogModel: Model {
    /// The body of `add_entry`.
    type EntryInput: serde::Serialize + Send + Sync;
    /// The typed payloads of the log's entries (`SubjectLogDetails`).
    type Details: crate::details::DetailsGroup;
    /// Each entry's `details`, typed by the log's `type`, in entry order (a
    /// payload that does not fit its type is `Unknown`, kept exactly).
    ///
    /// ```
    /// use brainstem::LogModel;
    /// use brainstem::details::SubjectLogDetails;
    /// use brainstem::types::SubjectLog;
    /// let log: SubjectLog = serde_json::from_value(serde_json::json!({
    ///     "id": "6f1c1a3e-2a9b-4c3e-9d1e-0b7a2f8c5d11", "type": "Weighing",
    ///     "subject": "0b7a2f8c-5d11-4c3e-9d1e-6f1c1a3e2a9b", "description": null,
    ///     "entries": [{"date_time": "2024-05-01T09:00:00Z", "notes": null,
    ///                  "details": {"weight": {"value": 312.5, "unit": "g"}}}]
    /// })).unwrap();
    /// let details = LogModel::entry_details(&log);
    /// assert!(matches!(details[0], SubjectLogDetails::Weighing(_)));
    /// ```
    fn entry_details(&self) -> Vec<Self::Details>;
}
