//! The runtime half of the generated tolerant decoders and encoders: key
//! lookup, absent fields, unknown keys, scalar unions. Used by generated code
//! only; not a stable API.

use std::fmt;

use serde::Deserializer;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use crate::observe::{self, Observation};
use crate::raw_json::{RawSink, deserialize_raw};
use crate::{Absent, MissingFields, Number, RawJson, UnknownFields};

/// A key of a shape's JSON object: a documented field (by index) or another key.
pub enum Key {
    /// The documented field with this index.
    Field(usize),
    /// A key the schema does not list.
    Other(String),
}

/// Reads an object key, matching documented names without allocating.
pub struct KeySeed(pub fn(&str) -> Option<usize>);

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl Visitor<'_> for KeySeed {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(match (self.0)(v) {
            Some(i) => Key::Field(i),
            None => Key::Other(v.to_owned()),
        })
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Key, E> {
        Ok(match (self.0)(&v) {
            Some(i) => Key::Field(i),
            None => Key::Other(v),
        })
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Key, E> {
        match std::str::from_utf8(v) {
            Ok(s) => self.visit_str(s),
            Err(_) => Err(E::invalid_value(de::Unexpected::Bytes(v), &self)),
        }
    }
}

/// The value of documented field `i`, or its absent value (then recorded in
/// `missing`, and reported when the server is documented to always send it).
#[inline]
pub fn take<T: Absent>(
    slot: Option<T>,
    missing: &mut MissingFields,
    i: usize,
    shape: &'static str,
    always_sent: bool,
) -> T {
    match slot {
        Some(v) => v,
        None => {
            missed(missing, i, shape, always_sent);
            T::absent()
        }
    }
}

/// Record field `i` as missing, and report it when the server is documented
/// to always send it (one copy for every field type).
#[cold]
fn missed(missing: &mut MissingFields, i: usize, shape: &'static str, always_sent: bool) {
    missing.set_index(i);
    if always_sent {
        let names = missing.names();
        observe::report(|| Observation::MissingField {
            shape,
            field: names.get(i).copied().unwrap_or(""),
        });
    }
}

/// Whether a typed-payload part was received (else recorded in `missing`,
/// and reported when the server is documented to always send it).
#[inline]
pub fn take_opt<T>(
    slot: Option<T>,
    missing: &mut MissingFields,
    i: usize,
    shape: &'static str,
    always_sent: bool,
) -> Option<T> {
    if slot.is_none() {
        missed(missing, i, shape, always_sent);
    }
    slot
}

/// Writes a typed payload alone (the value of its `details` field).
pub struct DetailsContent<'a, G>(pub &'a G);

impl<G: crate::details::DetailsGroup> serde::Serialize for DetailsContent<'_, G> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_content(s)
    }
}

/// Read documented field `slot`'s value. Not inlined: one copy per field
/// type, shared by every shape with a field of that type, instead of the
/// read written out again in each shape's decoder.
#[inline(never)]
pub fn read<'de, A: MapAccess<'de>, T: serde::Deserialize<'de>>(
    map: &mut A,
    slot: &mut Option<T>,
) -> Result<(), A::Error> {
    *slot = Some(map.next_value()?);
    Ok(())
}

/// [`read`] for a list: exact capacity, items in order (see [`ExactList`]).
#[inline(never)]
pub fn read_list<'de, A: MapAccess<'de>, T>(
    map: &mut A,
    slot: &mut Option<Vec<T>>,
) -> Result<(), A::Error>
where
    ExactList<T>: serde::Deserialize<'de>,
{
    *slot = Some(map.next_value::<ExactList<T>>()?.0);
    Ok(())
}

/// [`read`] for a date or time, through the fast parser of
/// [`fast_time`](crate::fast_time).
#[inline(never)]
pub fn read_time<'de, A: MapAccess<'de>, T>(
    map: &mut A,
    slot: &mut Option<T>,
) -> Result<(), A::Error>
where
    crate::fast_time::Fast<T>: serde::Deserialize<'de>,
{
    *slot = Some(map.next_value::<crate::fast_time::Fast<T>>()?.0);
    Ok(())
}

/// The value of a key no documented field claims: kept in `unknown` (and
/// reported). One copy per input kind, for every shape.
#[inline(never)]
pub fn read_other<'de, A: MapAccess<'de>>(
    map: &mut A,
    unknown: &mut UnknownFields,
    shape: &'static str,
    key: Key,
) -> Result<(), A::Error> {
    match key {
        Key::Other(k) => {
            let v = map.next_value::<RawJson>()?;
            keep_unknown(unknown, shape, k, v);
        }
        // every index the key lookup returns has its own arm
        Key::Field(_) => {
            map.next_value::<de::IgnoredAny>()?;
        }
    }
    Ok(())
}

/// Keep a key the schema does not list (and report it).
#[inline]
pub fn keep_unknown(unknown: &mut UnknownFields, shape: &'static str, key: String, value: RawJson) {
    observe::report(|| Observation::UnknownField {
        shape,
        key: key.clone(),
    });
    unknown.push(key, value);
}

/// Whether documented field `i` is written when encoding: unless it was
/// missing and still holds its absent value.
#[inline]
pub fn writes<T: Absent>(missing: &MissingFields, i: usize, value: &T) -> bool {
    !(missing.contains_index(i) && value.is_absent())
}

/// Report a value of none of a union's documented kinds.
pub fn unexpected_value(union: &'static str, raw: &RawJson) {
    observe::report(|| {
        let text = raw.get();
        let mut end = text.len().min(200);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        Observation::UnexpectedValue {
            union,
            value: text[..end].to_string(),
        }
    });
}

/// One JSON value sorted by kind, read in one pass (numbers kept exactly).
pub enum Scalar {
    /// A string.
    String(String),
    /// A number.
    Number(Number),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// An object or an array, as received.
    Other(RawJson),
}

impl Scalar {
    /// The value as raw JSON.
    pub fn into_raw(self) -> RawJson {
        match self {
            Scalar::String(s) => {
                RawJson::from_trusted(serde_json::to_string(&s).unwrap_or_else(|_| "null".into()))
            }
            Scalar::Number(n) => RawJson::from_trusted(n.to_string()),
            Scalar::Bool(b) => RawJson::from_trusted(if b { "true" } else { "false" }),
            Scalar::Null => RawJson::null(),
            Scalar::Other(r) => r,
        }
    }
}

/// Read one value as a [`Scalar`].
pub fn deserialize_scalar<'de, D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
    deserialize_raw(d, ScalarSink)
}

struct ScalarSink;

fn string_of<E: de::Error>(text: &str) -> Result<String, E> {
    let inner = &text[1..text.len().saturating_sub(1).max(1)];
    if inner.contains('\\') {
        serde_json::from_str(text).map_err(E::custom)
    } else {
        Ok(inner.to_owned())
    }
}

impl<'de> RawSink<'de> for ScalarSink {
    type Value = Scalar;
    fn expecting(&self) -> &'static str {
        "any JSON value"
    }
    fn raw<E: de::Error>(self, text: &str) -> Result<Scalar, E> {
        Ok(match text.as_bytes().first() {
            Some(b'"') => Scalar::String(string_of(text)?),
            Some(b'-' | b'0'..=b'9') => Scalar::Number(Number::from_json_text(text)),
            Some(b't') => Scalar::Bool(true),
            Some(b'f') => Scalar::Bool(false),
            Some(b'n') => Scalar::Null,
            _ => Scalar::Other(RawJson::from_trusted(text)),
        })
    }
    fn raw_owned<E: de::Error>(self, text: String) -> Result<Scalar, E> {
        match text.as_bytes().first() {
            Some(b'{' | b'[') => Ok(Scalar::Other(RawJson::from_trusted(text))),
            _ => self.raw(&text),
        }
    }
    fn fallback<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(PlainScalar)
    }
}

struct PlainScalar;

impl<'de> Visitor<'de> for PlainScalar {
    type Value = Scalar;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Number(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Number(v.into()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::String(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Scalar, A::Error> {
        let v: serde_json::Value =
            serde::Deserialize::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(Scalar::Other(RawJson::from_value(&v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Scalar, A::Error> {
        let v: serde_json::Value =
            serde::Deserialize::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(Scalar::Other(RawJson::from_value(&v)))
    }
}

/// The JSON kind of a raw value, by its first byte: `b'{'`, `b'['`, `b'"'`,
/// `b't'`/`b'f'`, `b'n'`, or a digit / `b'-'`.
pub fn first_byte(raw: &RawJson) -> u8 {
    raw.get().as_bytes().first().copied().unwrap_or(b'n')
}

/// A list decoded into a `Vec` of exactly its length when it holds at most
/// four items (the common case: a record's relation lists hold zero, one or
/// two ids), instead of serde's first allocation of four: records kept in
/// memory (`all()`) take less.
pub struct ExactList<T>(pub Vec<T>);

impl<'de, T: de::Deserialize<'de>> de::Deserialize<'de> for ExactList<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<fn() -> T>);
        impl<'de, T: de::Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = ExactList<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                // the first four items wait in `head` until the list's end
                // (or a fifth item) says how much room it needs. One call
                // reads every item, so the item's decoder is inlined once.
                let mut head: [Option<T>; 4] = [None, None, None, None];
                let mut n = 0;
                let mut rest: Vec<T> = Vec::new();
                while let Some(x) = seq.next_element()? {
                    if n < 4 {
                        head[n] = Some(x);
                        n += 1;
                    } else {
                        if rest.is_empty() {
                            rest.reserve_exact(8);
                            rest.extend(head.iter_mut().filter_map(Option::take));
                        }
                        rest.push(x);
                    }
                }
                if !rest.is_empty() {
                    return Ok(ExactList(rest));
                }
                let mut v = Vec::with_capacity(n);
                v.extend(head.into_iter().flatten());
                Ok(ExactList(v))
            }
        }
        d.deserialize_seq(V(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_lists_keep_every_item_in_order_and_fit_short_ones() {
        for n in 0..12usize {
            let items: Vec<usize> = (0..n).collect();
            let text = serde_json::to_string(&items).unwrap();
            let got = serde_json::from_str::<ExactList<usize>>(&text).unwrap().0;
            assert_eq!(got, items);
            if n <= 4 {
                assert_eq!(got.capacity(), n, "{n} items");
            }
        }
        let err = serde_json::from_str::<ExactList<u8>>("[1, 2, 300]")
            .err()
            .unwrap();
        assert!(err.to_string().contains("300"), "{err}");
    }

    #[test]
    fn scalars_by_kind() {
        let s = |t: &str| deserialize_scalar(&mut serde_json::Deserializer::from_str(t)).unwrap();
        assert!(matches!(s(r#""a\"b""#), Scalar::String(x) if x == "a\"b"));
        assert!(matches!(s(r#""plain""#), Scalar::String(x) if x == "plain"));
        assert!(matches!(s("1e400"), Scalar::Number(n) if n.to_string() == "1e400"));
        assert!(matches!(s("true"), Scalar::Bool(true)));
        assert!(matches!(s("null"), Scalar::Null));
        assert!(matches!(s(r#"{"a": 1}"#), Scalar::Other(r) if r.get() == r#"{"a": 1}"#));
        let v: Scalar = deserialize_scalar(serde_json::json!([1])).unwrap();
        assert!(matches!(v, Scalar::Other(r) if r.get() == "[1]"));
        // deserializers that are not serde_json's: the ordinary way
        let b = de::value::BoolDeserializer::<de::value::Error>::new(true);
        assert!(matches!(deserialize_scalar(b).unwrap(), Scalar::Bool(true)));
        let n = de::value::U64Deserializer::<de::value::Error>::new(7);
        assert!(
            matches!(deserialize_scalar(n).unwrap(), Scalar::Number(n) if n.as_i64() == Some(7))
        );
    }
}
