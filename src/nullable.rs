//! A value that may be JSON `null`, for PATCH bodies where "leave alone"
//! (field absent) and "clear" (field `null`) are different requests.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A PATCH field that can be set to a value or cleared with `null`.
///
/// Patch shapes hold nullable fields as `Option<Nullable<T>>`: `None` sends
/// nothing, `Some(Nullable::Null)` sends `null`, `Some(Nullable::Value(v))`
/// sends `v`.
///
/// ```
/// use brainstem::{Nullable, types::SessionPatch};
/// let mut p = SessionPatch::default();
/// assert_eq!(serde_json::to_string(&p).unwrap(), "{}");
/// p.date_time = Some(Nullable::Null);
/// assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"date_time":null}"#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Nullable<T> {
    /// JSON `null`: clear the field.
    Null,
    /// Set the field.
    Value(T),
}

impl<T> Nullable<T> {
    /// The value, if not null.
    pub fn as_ref(&self) -> Option<&T> {
        match self {
            Nullable::Null => None,
            Nullable::Value(v) => Some(v),
        }
    }

    /// Into an `Option`, forgetting the difference between null and absent.
    pub fn into_option(self) -> Option<T> {
        match self {
            Nullable::Null => None,
            Nullable::Value(v) => Some(v),
        }
    }
}

impl<T> From<T> for Nullable<T> {
    fn from(v: T) -> Self {
        Nullable::Value(v)
    }
}

impl<T: Serialize> Serialize for Nullable<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Nullable::Null => s.serialize_none(),
            Nullable::Value(v) => s.serialize_some(v),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Nullable<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(d)? {
            None => Nullable::Null,
            Some(v) => Nullable::Value(v),
        })
    }
}

/// Deserialize a field that is present (possibly `null`) as `Some`, so that a
/// patch shape's `Option<Nullable<T>>` reads `null` as `Some(Nullable::Null)`
/// and only an absent field as `None` (with `#[serde(default)]`).
#[doc(hidden)]
pub fn deserialize_present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}
