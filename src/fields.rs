//! What a decoded record keeps besides its documented values: which
//! documented fields were absent ([`MissingFields`]) and the keys the schema
//! does not list ([`UnknownFields`]), and the value an absent field reads as
//! ([`Absent`]).

use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// The keys a shape's schema does not list, in the order received, with
/// their values exactly as received; written back after the documented
/// fields.
///
/// ```
/// use brainstem::types::DownloadLink;
/// let link: DownloadLink = serde_json::from_str(
///     r#"{"repository": "DANDI", "url": "https://dandiarchive.org", "size": 1.50}"#,
/// ).unwrap();
/// assert_eq!(link.unknown.get("size").unwrap().get(), "1.50");
/// assert_eq!(
///     serde_json::to_string(&link).unwrap(),
///     r#"{"repository":"DANDI","url":"https://dandiarchive.org","size":1.50}"#
/// );
/// ```
pub type UnknownFields = crate::RawObject;

/// The value a documented field reads as when a response leaves it out, and
/// the test for it.
///
/// Implemented for the scalar, collection and id types the generated shapes
/// use (empty string, `false`, `0`, the nil UUID, the Unix epoch, `None`,
/// empty collections), for [`Related`](crate::Related) (the nil id), and for
/// every generated shape. A field listed in a record's
/// [`missing`](MissingFields) is left out when the record is encoded again,
/// as long as it still holds this value.
///
/// ```
/// use brainstem::Absent;
/// assert_eq!(String::absent(), "");
/// assert!(Vec::<u8>::absent().is_absent());
/// assert!(!Some(1).is_absent());
/// ```
pub trait Absent {
    /// The value of a field that was not sent.
    fn absent() -> Self;
    /// Whether this is that value.
    fn is_absent(&self) -> bool;
}

macro_rules! absent_default {
    ($($t:ty),*) => {$(
        impl Absent for $t {
            fn absent() -> Self {
                <$t>::default()
            }
            fn is_absent(&self) -> bool {
                *self == <$t>::default()
            }
        }
    )*};
}
absent_default!(
    bool, i8, i16, i32, i64, u8, u16, u32, u64, usize, f32, f64, String
);

impl Absent for uuid::Uuid {
    fn absent() -> Self {
        uuid::Uuid::nil()
    }
    fn is_absent(&self) -> bool {
        self.is_nil()
    }
}

impl Absent for chrono::DateTime<chrono::Utc> {
    /// The Unix epoch.
    fn absent() -> Self {
        chrono::DateTime::UNIX_EPOCH
    }
    fn is_absent(&self) -> bool {
        *self == chrono::DateTime::UNIX_EPOCH
    }
}

impl Absent for chrono::NaiveDate {
    /// 1970-01-01.
    fn absent() -> Self {
        chrono::DateTime::UNIX_EPOCH.date_naive()
    }
    fn is_absent(&self) -> bool {
        *self == Self::absent()
    }
}

impl<T> Absent for Option<T> {
    fn absent() -> Self {
        None
    }
    fn is_absent(&self) -> bool {
        self.is_none()
    }
}

impl<T> Absent for Vec<T> {
    fn absent() -> Self {
        Vec::new()
    }
    fn is_absent(&self) -> bool {
        self.is_empty()
    }
}

impl<T: Absent> Absent for Box<T> {
    fn absent() -> Self {
        Box::new(T::absent())
    }
    fn is_absent(&self) -> bool {
        (**self).is_absent()
    }
}

impl<K, V> Absent for crate::Map<K, V> {
    fn absent() -> Self {
        crate::Map::new()
    }
    fn is_absent(&self) -> bool {
        self.is_empty()
    }
}

impl<K, V> Absent for BTreeMap<K, V> {
    fn absent() -> Self {
        BTreeMap::new()
    }
    fn is_absent(&self) -> bool {
        self.is_empty()
    }
}

impl<K, V, S: Default> Absent for HashMap<K, V, S> {
    fn absent() -> Self {
        HashMap::default()
    }
    fn is_absent(&self) -> bool {
        self.is_empty()
    }
}

impl Absent for serde_json::Value {
    fn absent() -> Self {
        serde_json::Value::Null
    }
    fn is_absent(&self) -> bool {
        self.is_null()
    }
}

impl Absent for serde_json::Map<String, serde_json::Value> {
    fn absent() -> Self {
        serde_json::Map::new()
    }
    fn is_absent(&self) -> bool {
        self.is_empty()
    }
}

/// The documented fields a decoded shape did not receive, by JSON name: a
/// set over the shape's field names (no allocation). Not serialized itself:
/// encoding the shape leaves these fields out, as received, for as long as
/// they hold their [`Absent`] value (set a field and it is written again).
///
/// Shapes built in code (constructors, `Default`) list their optional fields
/// here, so that only what was set is sent.
///
/// ```
/// use brainstem::types::Session;
/// let s: Session = serde_json::from_str(
///     r#"{"id": "6f1c1a3e-2a9b-4c3e-9d1e-0b7a2f8c5d11", "name": "s1"}"#,
/// ).unwrap();
/// assert!(s.missing.contains("projects") && s.missing.contains("links"));
/// assert!(!s.missing.contains("name"));
/// assert!(s.missing.iter().any(|f| f == "description"));
/// assert_eq!(
///     serde_json::to_string(&s).unwrap(),
///     r#"{"id":"6f1c1a3e-2a9b-4c3e-9d1e-0b7a2f8c5d11","name":"s1"}"#
/// );
/// ```
#[derive(Clone, Copy)]
pub struct MissingFields {
    bits: u64,
    names: &'static [&'static str],
}

impl MissingFields {
    /// Nothing missing, over the field names `names` (at most 64).
    pub const fn none(names: &'static [&'static str]) -> Self {
        MissingFields { bits: 0, names }
    }

    /// The fields whose bits are set in `bits` (bit `i` is `names[i]`).
    #[doc(hidden)]
    pub const fn from_bits(names: &'static [&'static str], bits: u64) -> Self {
        MissingFields { bits, names }
    }

    /// Every field of `names`.
    pub const fn all(names: &'static [&'static str]) -> Self {
        let bits = if names.len() >= 64 {
            u64::MAX
        } else {
            (1u64 << names.len()) - 1
        };
        MissingFields { bits, names }
    }

    /// Whether no field was missing.
    pub fn is_empty(&self) -> bool {
        self.bits == 0
    }

    /// How many fields were missing.
    pub fn len(&self) -> usize {
        self.bits.count_ones() as usize
    }

    /// Whether the field with this JSON name was missing.
    pub fn contains(&self, name: &str) -> bool {
        self.index(name).is_some_and(|i| self.contains_index(i))
    }

    /// The JSON names of the missing fields, in the shape's field order.
    pub fn iter(&self) -> impl Iterator<Item = &'static str> + '_ {
        let names = self.names;
        let bits = self.bits;
        names
            .iter()
            .enumerate()
            .filter(move |(i, _)| *i < 64 && bits & (1 << i) != 0)
            .map(|(_, n)| *n)
    }

    /// Every documented field name of the shape, in order.
    pub fn names(&self) -> &'static [&'static str] {
        self.names
    }

    /// Mark a field missing (left out when encoding while it holds its
    /// absent value); `false` if the shape has no such field.
    pub fn insert(&mut self, name: &str) -> bool {
        match self.index(name) {
            Some(i) => {
                self.set_index(i);
                true
            }
            None => false,
        }
    }

    /// Mark a field present again; `false` if it was not missing.
    pub fn remove(&mut self, name: &str) -> bool {
        match self.index(name) {
            Some(i) if self.contains_index(i) => {
                self.bits &= !(1 << i);
                true
            }
            _ => false,
        }
    }

    /// Mark every field present.
    pub fn clear(&mut self) {
        self.bits = 0;
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.names
            .iter()
            .position(|n| *n == name)
            .filter(|i| *i < 64)
    }

    /// Whether field number `i` is missing.
    #[doc(hidden)]
    #[inline]
    pub fn contains_index(&self, i: usize) -> bool {
        i < 64 && self.bits & (1 << i) != 0
    }

    /// Mark field number `i` missing.
    #[doc(hidden)]
    #[inline]
    pub fn set_index(&mut self, i: usize) {
        if i < 64 {
            self.bits |= 1 << i;
        }
    }
}

impl Default for MissingFields {
    /// Nothing missing, over no field names.
    fn default() -> Self {
        MissingFields::none(&[])
    }
}

impl PartialEq for MissingFields {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for MissingFields {}

impl fmt::Debug for MissingFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: &[&str] = &["a", "b", "c"];

    #[test]
    fn set_operations() {
        let mut m = MissingFields::none(NAMES);
        assert!(m.is_empty());
        assert!(m.insert("b"));
        assert!(!m.insert("zz"));
        assert!(m.contains("b") && !m.contains("a"));
        assert_eq!(m.iter().collect::<Vec<_>>(), ["b"]);
        assert_eq!(m.len(), 1);
        assert!(m.remove("b") && !m.remove("b"));
        assert_eq!(MissingFields::all(NAMES).len(), 3);
        assert_eq!(
            format!("{:?}", MissingFields::all(NAMES)),
            r#"{"a", "b", "c"}"#
        );
    }
}

/// The marker a create shape holds in place of a read-only field (`id`,
/// `links`, ...): the server sets those, so they are never sent. The marker
/// is never serialized nor read; it exists so that setting a read-only field
/// is a type error naming `ReadOnly` (rustc: "expected `ReadOnly`, found
/// `Uuid`") rather than a bare "no field `id`".
///
/// ```compile_fail,E0308
/// use brainstem::types::{NewSession, NewSessionRequired};
/// let mut s = NewSession::new(NewSessionRequired { name: "s1".into(), projects: vec![] });
/// s.id = uuid::Uuid::nil(); // error: expected `ReadOnly`, found `Uuid`
/// ```
///
/// ```
/// use brainstem::types::{NewSession, NewSessionRequired};
/// let s = NewSession::new(NewSessionRequired { name: "s1".into(), projects: vec![] });
/// assert_eq!(s.id, brainstem::ReadOnly);
/// assert!(serde_json::to_value(&s).unwrap().get("id").is_none());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ReadOnly;
