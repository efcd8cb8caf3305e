//! Relation fields: an id, or (with `include[]`) the whole related record.

use std::marker::PhantomData;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use crate::Model;
use crate::model::RecordId;
use crate::observe::{self, Observation};
use crate::raw_json::{RawSink, deserialize_raw};
use serde_json::Value;

/// A related record as a response carries it: by id, or embedded in full
/// when the request asked for it with `include[]`.
///
/// The client tells three cases apart: [`Id`](Related::Id) (the relation was
/// not included), [`Object`](Related::Object) (included: embedded by the
/// server or merged from a sideloaded list), and [`Missing`](Related::Missing)
/// (included, but the server sent only the id and no record for it).
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
    /// The request included this relation, but the response carried only the
    /// id: the server neither embedded nor sideloaded the record (it may not
    /// be visible to you, or the server ignored the include).
    Missing(T::Id),
}

impl<T: Model> Related<T> {
    /// The related record's id, whichever form it came in.
    pub fn id(&self) -> T::Id {
        match self {
            Related::Id(id) | Related::Missing(id) => *id,
            Related::Object(o) => o.record_id(),
        }
    }

    /// The embedded record, if it was included.
    pub fn object(&self) -> Option<&T> {
        match self {
            Related::Id(_) | Related::Missing(_) => None,
            Related::Object(o) => Some(o),
        }
    }

    /// Whether the record was embedded.
    pub fn is_included(&self) -> bool {
        matches!(self, Related::Object(_))
    }

    /// Whether the relation was asked for with `include[]` but the server
    /// sent no record for it.
    pub fn is_missing(&self) -> bool {
        matches!(self, Related::Missing(_))
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
            Related::Id(id) | Related::Missing(id) => id.serialize(s),
            Related::Object(o) => o.serialize(s),
        }
    }
}

/// Reads a relation in one pass from its raw JSON text: an id is parsed in
/// place (no allocation for a UUID or an integer); an embedded record that
/// does not decode falls back to its `id`, and the failure is reported to
/// [`observe`](crate::observe) instead of failing the record around it.
struct RelatedSink<T>(PhantomData<T>);

fn parse_id<T: Model, E: de::Error>(s: &str) -> Result<Related<T>, E> {
    s.parse::<T::Id>()
        .map(Related::Id)
        .map_err(|_| E::custom(format_args!("{s:?} is not a valid {} id", T::META.name)))
}

/// An embedded record; one that does not decode falls back to its id.
fn embedded<T: Model, E: de::Error>(text: &str) -> Result<Related<T>, E> {
    let checkpoint = observe::checkpoint();
    let err = match serde_json::from_str::<T>(text) {
        Ok(o) => return Ok(Related::Object(Box::new(o))),
        Err(e) => e,
    };
    // what decoding the abandoned record noticed does not describe the result
    observe::rollback(checkpoint);
    #[derive(Deserialize)]
    struct IdOnly<I> {
        id: I,
    }
    match serde_json::from_str::<IdOnly<T::Id>>(text) {
        Ok(IdOnly { id }) => {
            observe::report(|| Observation::EmbeddedFallback {
                model: T::META.name,
                id: id.to_string(),
                error: err.to_string(),
            });
            Ok(Related::Id(id))
        }
        Err(_) => Err(E::custom(format_args!(
            "the embedded {} record does not decode ({err}) and has no usable `id`",
            T::META.name
        ))),
    }
}

impl<'de, T: Model> RawSink<'de> for RelatedSink<T> {
    type Value = Related<T>;

    fn expecting(&self) -> &'static str {
        "an id or an embedded record"
    }

    fn raw<E: de::Error>(self, text: &str) -> Result<Related<T>, E> {
        match text.as_bytes().first() {
            Some(b'"') => {
                let inner = &text[1..text.len().saturating_sub(1).max(1)];
                // an id is read as is; only one that does not parse is
                // looked at for escapes
                parse_id(inner).or_else(|not_an_id| {
                    if inner.contains('\\') {
                        let s: String = serde_json::from_str(text).map_err(E::custom)?;
                        parse_id(&s)
                    } else {
                        Err(not_an_id)
                    }
                })
            }
            Some(b'-' | b'0'..=b'9') => parse_id(text),
            Some(b'{') => embedded(text),
            _ => Err(E::invalid_type(
                crate::number::unexpected(text),
                &"an id or an embedded record",
            )),
        }
    }

    /// Another deserializer (no raw text to be had): the value is read as
    /// a `serde_json::Value` and then as its text, so one reading serves
    /// every relation type and every input. Such a deserializer hands over
    /// numbers as 64-bit integers or `f64`, which a `Value` keeps exactly.
    fn fallback<D: Deserializer<'de>>(self, d: D) -> Result<Related<T>, D::Error> {
        let text = Value::deserialize(d)?.to_string();
        self.raw_owned(text)
    }
}

impl<'de, T: Model> Deserialize<'de> for Related<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_raw(d, RelatedSink(PhantomData))
    }
}

impl<T: Model> crate::Absent for Related<T>
where
    T::Id: crate::Absent,
{
    /// The nil id.
    fn absent() -> Self {
        Related::Id(<T::Id as crate::Absent>::absent())
    }
    fn is_absent(&self) -> bool {
        matches!(self, Related::Id(id) if id.is_absent())
    }
}

/// One relation value inside a record, seen without its type: what the
/// client needs to mark includes the server did not fill in, at any depth.
#[doc(hidden)]
pub trait RelatedSlot {
    /// Turn a bare id into [`Related::Missing`]; embedded records stay.
    fn mark_missing(&mut self);
    /// The embedded record, to walk nested includes.
    fn record_mut(&mut self) -> Option<&mut dyn Relations>;
}

impl<T: Model> RelatedSlot for Related<T> {
    fn mark_missing(&mut self) {
        if let Related::Id(id) = self {
            *self = Related::Missing(*id);
        }
    }

    fn record_mut(&mut self) -> Option<&mut dyn Relations> {
        match self {
            Related::Object(o) => Some(&mut **o),
            _ => None,
        }
    }
}

/// A record whose relation fields can be visited by JSON name (implemented
/// for every model by the generator, through [`Model`]).
#[doc(hidden)]
pub trait Relations {
    /// Call `f` on every relation value of field `field` (one for a to-one
    /// relation, each element for a to-many one). `false`: no such relation.
    fn visit_related_mut(&mut self, field: &str, f: &mut dyn FnMut(&mut dyn RelatedSlot)) -> bool;
}

impl<M: Model> Relations for M {
    fn visit_related_mut(&mut self, field: &str, f: &mut dyn FnMut(&mut dyn RelatedSlot)) -> bool {
        Model::visit_related_mut(self, field, f)
    }
}

#[allow(dead_code)]
fn _assert_record_id<I: RecordId>() {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Project, User};

    fn read<T: Model>(text: &str) -> Result<Related<T>, String> {
        serde_json::from_str::<Related<T>>(text).map_err(|e| e.to_string())
    }

    #[test]
    fn an_ordinary_object_from_another_deserializer_reads_as_its_text() {
        use serde::de::value::{Error, MapAccessDeserializer, MapDeserializer};
        let id = "0bd4eab9-a8d4-55b9-9552-6dbea8df0151";
        let object = |entries: Vec<(&'static str, &'static str)>| {
            MapAccessDeserializer::new(MapDeserializer::<_, Error>::new(entries.into_iter()))
        };
        match Related::<Project>::deserialize(object(vec![("id", id), ("name", "p")])) {
            Ok(Related::Object(p)) => {
                assert_eq!(p.id.to_string(), id);
                assert_eq!(p.name, "p");
            }
            other => panic!("{other:?}"),
        }
        // what the text reading refuses is refused here too
        let err = Related::<Project>::deserialize(object(vec![("id", "nope")])).unwrap_err();
        assert!(err.to_string().contains("no usable `id`"), "{err}");
    }

    #[test]
    fn values_from_another_deserializer_read_as_their_text() {
        use serde::de::value::{BoolDeserializer, Error, StrDeserializer, U64Deserializer};
        let id = "0bd4eab9-a8d4-55b9-9552-6dbea8df0151";
        assert_eq!(
            Related::<Project>::deserialize(StrDeserializer::<Error>::new(id)),
            Ok(Related::Id(id.parse().unwrap()))
        );
        assert_eq!(
            Related::<User>::deserialize(U64Deserializer::<Error>::new(42)),
            Ok(Related::Id(42))
        );
        let err = Related::<Project>::deserialize(StrDeserializer::<Error>::new("nope"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"nope\" is not a valid project id"), "{err}");
        let err = Related::<Project>::deserialize(BoolDeserializer::<Error>::new(true))
            .unwrap_err()
            .to_string();
        assert!(err.contains("an id or an embedded record"), "{err}");
    }

    #[test]
    fn ids_read_plain_escaped_and_as_numbers() {
        let id: uuid::Uuid = "0bd4eab9-a8d4-55b9-9552-6dbea8df0151".parse().unwrap();
        assert_eq!(
            read::<Project>(r#""0bd4eab9-a8d4-55b9-9552-6dbea8df0151""#),
            Ok(Related::Id(id))
        );
        // an escape in the string is read before the id is parsed
        assert_eq!(
            read::<Project>(r#""\u0030bd4eab9-a8d4-55b9-9552-6dbea8df0151""#),
            Ok(Related::Id(id))
        );
        // integer ids, as numbers or as strings
        assert_eq!(read::<User>("42"), Ok(Related::Id(42)));
        assert_eq!(read::<User>(r#""42""#), Ok(Related::Id(42)));
        assert_eq!(read::<User>(r#""4\u0032""#), Ok(Related::Id(42)));
        // what is not an id names the model
        let err = read::<Project>(r#""not-an-id""#).unwrap_err();
        assert!(
            err.contains("\"not-an-id\" is not a valid project id"),
            "{err}"
        );
        let err = read::<Project>(r#""bad\nid""#).unwrap_err();
        assert!(err.contains("is not a valid project id"), "{err}");
    }
}
