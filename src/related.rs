//! Relation fields: an id, or (with `include[]`) the whole related record.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::Model;
use crate::model::RecordId;

/// A related record as a response carries it: by id, or embedded in full
/// when the request asked for it with `include[]`.
///
/// ```
/// use brainstem::{Related, types::Project};
/// let r: Related<Project> =
///     serde_json::from_str("\"6f1c1a3e-2a9b-4c3e-9d1e-0b7a2f8c5d11\"").unwrap();
/// assert!(r.object().is_none());
/// assert_eq!(r.id().to_string(), "6f1c1a3e-2a9b-4c3e-9d1e-0b7a2f8c5d11");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Related<T: Model> {
    /// Only the id (the default).
    Id(T::Id),
    /// The embedded record (`include[]`).
    Object(Box<T>),
}

impl<T: Model> Related<T> {
    /// The related record's id, whichever form it came in.
    pub fn id(&self) -> T::Id {
        match self {
            Related::Id(id) => *id,
            Related::Object(o) => o.record_id(),
        }
    }

    /// The embedded record, if it was included.
    pub fn object(&self) -> Option<&T> {
        match self {
            Related::Id(_) => None,
            Related::Object(o) => Some(o),
        }
    }

    /// Whether the record was embedded.
    pub fn is_included(&self) -> bool {
        matches!(self, Related::Object(_))
    }
}

impl<T: Model> From<T> for Related<T> {
    fn from(v: T) -> Self {
        Related::Object(Box::new(v))
    }
}

impl<T: Model> Serialize for Related<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Related::Id(id) => id.serialize(s),
            Related::Object(o) => o.serialize(s),
        }
    }
}

struct RelatedVisitor<T>(PhantomData<T>);

impl<T: Model> RelatedVisitor<T> {
    fn parse_id<E: de::Error>(s: &str) -> Result<Related<T>, E> {
        s.parse::<T::Id>()
            .map(Related::Id)
            .map_err(|_| E::custom(format_args!("{s:?} is not a valid {} id", T::META.name)))
    }
}

impl<'de, T: Model> Visitor<'de> for RelatedVisitor<T> {
    type Value = Related<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a {} id or an embedded {} record",
            T::META.name,
            T::META.name
        )
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Self::parse_id(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Self::parse_id(&v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Self::parse_id(&v.to_string())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map))
            .map(|o| Related::Object(Box::new(o)))
    }
}

impl<'de, T: Model> Deserialize<'de> for Related<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RelatedVisitor(PhantomData))
    }
}

impl<T: Model + schemars::JsonSchema> schemars::JsonSchema for Related<T>
where
    T::Id: schemars::JsonSchema,
{
    fn schema_name() -> String {
        format!("Related_{}", T::schema_name())
    }

    fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        use schemars::schema::{Schema, SchemaObject, SubschemaValidation};
        Schema::Object(SchemaObject {
            subschemas: Some(Box::new(SubschemaValidation {
                any_of: Some(vec![
                    generator.subschema_for::<T::Id>(),
                    generator.subschema_for::<T>(),
                ]),
                ..Default::default()
            })),
            ..Default::default()
        })
    }
}

#[allow(dead_code)]
fn _assert_record_id<I: RecordId>() {}
