//! JSON kept exactly as received: [`RawJson`] (one value) and [`RawObject`]
//! (an object, keys in order), and the raw-value protocol of `serde_json` the
//! tolerant decoders use to read a value without interpreting it.

use std::fmt;
use std::sync::OnceLock;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// One JSON value kept as the exact text it was received as (numbers of any
/// size and precision included), to be written back unchanged.
///
/// Equality compares the text. [`value`](RawJson::value) reads it as a
/// [`serde_json::Value`] (which cannot hold numbers outside `f64`),
/// [`parse`](RawJson::parse) as any type.
///
/// ```
/// use brainstem::RawJson;
/// let big = format!("1{}", "0".repeat(400));
/// let raw: RawJson = serde_json::from_str(&big).unwrap();
/// assert_eq!(raw.get(), big);
/// assert!(raw.value().is_none()); // too large for serde_json::Value
/// assert_eq!(serde_json::to_string(&raw).unwrap(), big);
///
/// let small = RawJson::from_value(&serde_json::json!({"a": [1, 2.50]}));
/// assert_eq!(small.get(), r#"{"a":[1,2.5]}"#);
/// assert_eq!(small.value().unwrap()["a"][0], 1);
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RawJson(Box<str>);

impl RawJson {
    /// Check that `text` is one JSON value and keep it as it is.
    pub fn new(text: impl Into<String>) -> Result<Self, serde_json::Error> {
        let text = text.into();
        serde_json::from_str::<de::IgnoredAny>(&text)?;
        Ok(RawJson(text.into_boxed_str()))
    }

    /// JSON `null`.
    pub fn null() -> Self {
        RawJson("null".into())
    }

    /// The text of a [`serde_json::Value`].
    pub fn from_value(value: &Value) -> Self {
        RawJson(value.to_string().into_boxed_str())
    }

    /// The JSON text of anything serializable.
    pub fn from_serialize<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        serde_json::to_string(value).map(|s| RawJson(s.into_boxed_str()))
    }

    /// Text that is known to be one valid JSON value (from serde_json's raw
    /// capture); not checked again.
    pub(crate) fn from_trusted(text: impl Into<Box<str>>) -> Self {
        RawJson(text.into())
    }

    /// The JSON text, exactly as received.
    pub fn get(&self) -> &str {
        &self.0
    }

    /// Whether the value is `null`.
    pub fn is_null(&self) -> bool {
        &*self.0 == "null"
    }

    /// The value as a [`serde_json::Value`]; `None` when it holds a number
    /// `serde_json::Value` cannot represent (beyond `f64`).
    pub fn value(&self) -> Option<Value> {
        serde_json::from_str(&self.0).ok()
    }

    /// Decode the value as `T`.
    pub fn parse<'a, T: Deserialize<'a>>(&'a self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.0)
    }

    /// The keys of a JSON object, in order (`None` for anything else).
    pub fn object_keys(&self) -> Option<Vec<String>> {
        struct Keys;
        impl<'de> Visitor<'de> for Keys {
            type Value = Option<Vec<String>>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut keys = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    map.next_value::<de::IgnoredAny>()?;
                    keys.push(k);
                }
                Ok(Some(keys))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(None)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
        }
        if !self.0.starts_with('{') {
            return None;
        }
        serde_json::Deserializer::from_str(&self.0)
            .deserialize_any(Keys)
            .ok()
            .flatten()
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawJson({})", self.0)
    }
}

impl fmt::Display for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Value> for RawJson {
    fn from(v: Value) -> Self {
        RawJson::from_value(&v)
    }
}

impl From<&Value> for RawJson {
    fn from(v: &Value) -> Self {
        RawJson::from_value(v)
    }
}

impl std::str::FromStr for RawJson {
    type Err = serde_json::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RawJson::new(s)
    }
}

impl Serialize for RawJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_raw(&self.0, s)
    }
}

impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Sink;
        impl<'de> RawSink<'de> for Sink {
            type Value = RawJson;
            fn expecting(&self) -> &'static str {
                "any JSON value"
            }
            fn raw<E: de::Error>(self, text: &str) -> Result<RawJson, E> {
                Ok(RawJson::from_trusted(text))
            }
            fn raw_owned<E: de::Error>(self, text: String) -> Result<RawJson, E> {
                Ok(RawJson::from_trusted(text))
            }
            fn fallback<D: Deserializer<'de>>(self, d: D) -> Result<RawJson, D::Error> {
                Value::deserialize(d).map(|v| RawJson::from_value(&v))
            }
        }
        deserialize_raw(d, Sink)
    }
}

impl crate::Absent for RawJson {
    fn absent() -> Self {
        RawJson::null()
    }
    fn is_absent(&self) -> bool {
        self.is_null()
    }
}

/// A JSON object kept exactly: its keys in the order received, each value as
/// [`RawJson`]. Used for free-form objects (untyped `details`, equipment
/// payloads) and, as [`UnknownFields`](crate::UnknownFields), for the keys a
/// record's schema does not list.
///
/// ```
/// use brainstem::{RawJson, RawObject};
/// let o: RawObject = serde_json::from_str(r#"{"b": 1.50, "a": "x"}"#).unwrap();
/// assert_eq!(o.keys().collect::<Vec<_>>(), ["b", "a"]);
/// assert_eq!(o.get("b").unwrap().get(), "1.50");
/// assert_eq!(o.value("a"), Some(serde_json::json!("x")));
/// assert_eq!(serde_json::to_string(&o).unwrap(), r#"{"b":1.50,"a":"x"}"#);
///
/// let mut o = RawObject::new();
/// o.insert("n", RawJson::new("12").unwrap());
/// assert_eq!(serde_json::to_string(&o).unwrap(), r#"{"n":12}"#);
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RawObject {
    entries: Vec<(String, RawJson)>,
}

impl RawObject {
    /// An empty object (does not allocate).
    pub const fn new() -> Self {
        RawObject {
            entries: Vec::new(),
        }
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of `key`, as received.
    pub fn get(&self, key: &str) -> Option<&RawJson> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The value of `key` as a [`serde_json::Value`] (`None` when absent or
    /// holding a number `serde_json::Value` cannot represent).
    pub fn value(&self, key: &str) -> Option<Value> {
        self.get(key).and_then(RawJson::value)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    /// `(key, value)` pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &RawJson)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Set `key` (in place when present, else appended); returns the old value.
    pub fn insert(&mut self, key: impl Into<String>, value: RawJson) -> Option<RawJson> {
        let key = key.into();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => Some(std::mem::replace(v, value)),
            None => {
                self.entries.push((key, value));
                None
            }
        }
    }

    /// Append a key without looking for an earlier one (a decoder keeping a
    /// repeated key twice, as received).
    #[doc(hidden)]
    pub fn push(&mut self, key: String, value: RawJson) {
        self.entries.push((key, value));
    }

    /// Remove `key`; returns its value.
    pub fn remove(&mut self, key: &str) -> Option<RawJson> {
        let i = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(i).1)
    }

    /// The object as a [`serde_json::Value`] (`None` when a value holds a
    /// number `serde_json::Value` cannot represent).
    pub fn to_value(&self) -> Option<Value> {
        let mut m = serde_json::Map::new();
        for (k, v) in &self.entries {
            m.insert(k.clone(), v.value()?);
        }
        Some(Value::Object(m))
    }
}

impl fmt::Debug for RawObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(k, v)| (k, v.get())))
            .finish()
    }
}

impl From<serde_json::Map<String, Value>> for RawObject {
    fn from(m: serde_json::Map<String, Value>) -> Self {
        m.into_iter()
            .map(|(k, v)| (k, RawJson::from_value(&v)))
            .collect()
    }
}

impl FromIterator<(String, RawJson)> for RawObject {
    fn from_iter<I: IntoIterator<Item = (String, RawJson)>>(iter: I) -> Self {
        let mut o = RawObject::new();
        for (k, v) in iter {
            o.insert(k, v);
        }
        o
    }
}

impl IntoIterator for RawObject {
    type Item = (String, RawJson);
    type IntoIter = std::vec::IntoIter<(String, RawJson)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl Serialize for RawObject {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.entries.len()))?;
        for (k, v) in &self.entries {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for RawObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawObject, A::Error> {
                let mut o = RawObject::new();
                while let Some((k, v)) = map.next_entry::<String, RawJson>()? {
                    o.entries.push((k, v));
                }
                Ok(o)
            }
        }
        d.deserialize_map(V)
    }
}

impl crate::Absent for RawObject {
    fn absent() -> Self {
        RawObject::new()
    }
    fn is_absent(&self) -> bool {
        self.is_empty()
    }
}

// ---------------------------------------------------------------------------
// serde_json's raw-value protocol

/// The name serde_json's `RawValue` passes to `deserialize_newtype_struct`
/// and `serialize_struct`, read once from serde_json itself (not spelled out
/// here, so a future serde_json that renames it keeps working).
pub(crate) fn token() -> &'static str {
    static TOKEN: OnceLock<&'static str> = OnceLock::new();
    TOKEN.get_or_init(|| {
        let seen = std::cell::Cell::new(None);
        let _ = <Box<serde_json::value::RawValue> as Deserialize>::deserialize(Catch(&seen));
        seen.get()
            .expect("serde_json's RawValue deserializes through a newtype struct")
    })
}

struct Catch<'a>(&'a std::cell::Cell<Option<&'static str>>);

impl<'de> Deserializer<'de> for Catch<'_> {
    type Error = de::value::Error;
    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("only the name is wanted"))
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.set(Some(name));
        Err(de::Error::custom("only the name is wanted"))
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// Write `text` (one valid JSON value) verbatim: serde_json's serializers
/// copy it as it is; other serializers see serde_json's raw-value struct.
pub(crate) fn serialize_raw<S: Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
    let mut st = s.serialize_struct(token(), 1)?;
    st.serialize_field(token(), text)?;
    st.end()
}

/// What to do with a value read as raw JSON text.
#[doc(hidden)]
pub trait RawSink<'de>: Sized {
    /// The result.
    type Value;
    /// What the value should be, for error messages.
    fn expecting(&self) -> &'static str;
    /// The value's exact text (valid JSON).
    fn raw<E: de::Error>(self, text: &str) -> Result<Self::Value, E>;
    /// The same, owned.
    fn raw_owned<E: de::Error>(self, text: String) -> Result<Self::Value, E> {
        self.raw(&text)
    }
    /// A deserializer that is not serde_json's (no raw text to be had): read
    /// the value the ordinary way.
    fn fallback<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error>;
}

/// Read one value as its raw JSON text (serde_json: from a slice, a string,
/// a reader or a `serde_json::Value`), else through [`RawSink::fallback`].
#[doc(hidden)]
pub fn deserialize_raw<'de, D: Deserializer<'de>, S: RawSink<'de>>(
    d: D,
    sink: S,
) -> Result<S::Value, D::Error> {
    d.deserialize_newtype_struct(token(), RawVisitor(sink))
}

struct RawVisitor<S>(S);

/// The rest of an ordinary object whose first key was read already.
fn ordinary_object<'de, A: MapAccess<'de>>(
    first: Option<FirstKey>,
    mut map: A,
) -> Result<Value, A::Error> {
    let mut obj = serde_json::Map::new();
    if let Some(FirstKey::Other(k)) = first {
        obj.insert(k, map.next_value()?);
        while let Some((k, v)) = map.next_entry::<String, Value>()? {
            obj.insert(k, v);
        }
    }
    Ok(Value::Object(obj))
}

impl<'de, S: RawSink<'de>> Visitor<'de> for RawVisitor<S> {
    type Value = S::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.expecting())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<S::Value, A::Error> {
        match map.next_key_seed(TokenKey)? {
            Some(FirstKey::Token) => map.next_value_seed(RawText(self.0)),
            // a deserializer that handed over an ordinary object: read as
            // its JSON text, so the sink's own reading of text serves (no
            // second copy of every record's decoder, over `Value`)
            first => {
                let text = serde_json::to_string(&ordinary_object(first, map)?)
                    .map_err(de::Error::custom)?;
                self.0.raw_owned(text)
            }
        }
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.fallback(d)
    }

    // deserializers that answer a newtype request with the value itself
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<S::Value, E> {
        self.0.fallback(de::value::BoolDeserializer::new(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<S::Value, E> {
        self.0.fallback(de::value::I64Deserializer::new(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<S::Value, E> {
        self.0.fallback(de::value::U64Deserializer::new(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<S::Value, E> {
        self.0.fallback(de::value::F64Deserializer::new(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<S::Value, E> {
        self.0.fallback(de::value::StrDeserializer::new(v))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<S::Value, E> {
        self.0.fallback(de::value::StringDeserializer::new(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<S::Value, E> {
        self.0.fallback(de::value::UnitDeserializer::new())
    }
    fn visit_none<E: de::Error>(self) -> Result<S::Value, E> {
        self.0.fallback(de::value::UnitDeserializer::new())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.fallback(d)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<S::Value, A::Error> {
        self.0.fallback(de::value::SeqAccessDeserializer::new(seq))
    }
}

enum FirstKey {
    Token,
    Other(String),
}

struct TokenKey;

impl<'de> DeserializeSeed<'de> for TokenKey {
    type Value = FirstKey;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<FirstKey, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for TokenKey {
    type Value = FirstKey;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<FirstKey, E> {
        let t = token();
        // serde_json hands over its own constant: compare addresses first
        Ok(if std::ptr::eq(v, t) || v == t {
            FirstKey::Token
        } else {
            FirstKey::Other(v.to_owned())
        })
    }
}

struct RawText<S>(S);

impl<'de, S: RawSink<'de>> DeserializeSeed<'de> for RawText<S> {
    type Value = S::Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, S: RawSink<'de>> Visitor<'de> for RawText<S> {
    type Value = S::Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.expecting())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<S::Value, E> {
        let out = self.0.raw(v);
        // where a refused raw value is, for the error's path (see json_path)
        crate::json_path::note(v, out.as_ref().err().map(|e| e as &dyn fmt::Display));
        out
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<S::Value, E> {
        self.0.raw_owned(v)
    }
}
