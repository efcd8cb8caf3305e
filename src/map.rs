//! [`Map`]: the type of every JSON object with free keys in the generated
//! types (`links`, `extra_fields`, member maps, ...).
//!
//! It keeps the entries in the order they were received and writes them back
//! in that order, so a record passes through the client unchanged. It is a
//! vector of pairs: one small allocation for the usual handful of keys (a
//! `BTreeMap` allocates a node for eleven), with lookups by a linear scan.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::marker::PhantomData;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A JSON object's entries, in order.
///
/// ```
/// use brainstem::Map;
/// let mut m: Map<String, u32> = serde_json::from_str(r#"{"b": 1, "a": 2}"#).unwrap();
/// assert_eq!(m.get("a"), Some(&2));
/// m.insert("c".into(), 3);
/// m.insert("b".into(), 4); // replaces in place
/// assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"b":4,"a":2,"c":3}"#);
/// // Equality is a map's: the same entries in any order.
/// let other: Map<String, u32> = [("a".to_string(), 2), ("c".into(), 3), ("b".into(), 4)].into();
/// assert_eq!(m, other);
/// ```
#[derive(Clone)]
pub struct Map<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Map<K, V> {
    /// An empty map (does not allocate).
    pub const fn new() -> Self {
        Map {
            entries: Vec::new(),
        }
    }

    /// An empty map with room for `n` entries.
    pub fn with_capacity(n: usize) -> Self {
        Map {
            entries: Vec::with_capacity(n),
        }
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries, in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> + ExactSizeIterator {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The entries, in order, values mutable.
    pub fn iter_mut(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = (&K, &mut V)> + ExactSizeIterator {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator {
        self.entries.iter().map(|(k, _)| k)
    }

    /// The values, in order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator {
        self.entries.iter().map(|(_, v)| v)
    }

    /// The values, in order, mutable.
    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut V> + ExactSizeIterator {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    /// Remove every entry.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Keep only the entries for which `f` is true (in order).
    pub fn retain(&mut self, mut f: impl FnMut(&K, &mut V) -> bool) {
        self.entries.retain_mut(|(k, v)| f(k, v));
    }
}

impl<K: Eq, V> Map<K, V> {
    fn position<Q>(&self, key: &Q) -> Option<usize>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.entries.iter().position(|(k, _)| k.borrow() == key)
    }

    /// The value for `key`.
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.position(key).map(|i| &self.entries[i].1)
    }

    /// The value for `key`, mutable.
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.position(key).map(|i| &mut self.entries[i].1)
    }

    /// Whether `key` has a value.
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.position(key).is_some()
    }

    /// Set `key` to `value`: in place if the key is there (the old value is
    /// returned), else at the end.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.position(&key) {
            Some(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            None => {
                self.entries.push((key, value));
                None
            }
        }
    }

    /// Remove `key`, keeping the order of the others.
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.position(key).map(|i| self.entries.remove(i).1)
    }
}

impl<K, V> Default for Map<K, V> {
    fn default() -> Self {
        Map::new()
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for Map<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Two maps are equal when they hold the same entries, in any order.
impl<K: Eq, V: PartialEq> PartialEq for Map<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl<K: Eq, V: Eq> Eq for Map<K, V> {}

impl<K: Eq + Hash, V> Map<K, V> {
    /// A map of `entries` in order; a repeated key keeps its first place
    /// and its last value. Linear in the entries (a hash index finds the
    /// repeats), so a peer that sends a huge object costs time in
    /// proportion to its size, not its square.
    fn from_entries(mut entries: Vec<(K, V)>) -> Self {
        if entries.len() <= SMALL {
            let repeated =
                (1..entries.len()).any(|i| entries[..i].iter().any(|(k, _)| *k == entries[i].0));
            if !repeated {
                return Map { entries };
            }
            let mut m = Map::with_capacity(entries.len());
            for (k, v) in entries {
                m.insert(k, v);
            }
            return m;
        }
        // (repeat, first place) for every repeated key, in order
        let mut moves: Vec<(usize, usize)> = Vec::new();
        {
            let mut first: HashMap<&K, usize> = HashMap::with_capacity(entries.len());
            for (i, (k, _)) in entries.iter().enumerate() {
                if let Some(&f) = first.get(k) {
                    moves.push((i, f));
                } else {
                    first.insert(k, i);
                }
            }
        }
        if moves.is_empty() {
            return Map { entries };
        }
        for &(dup, first) in &moves {
            // the later value moves to the first place (dup > first)
            let (head, tail) = entries.split_at_mut(dup);
            std::mem::swap(&mut head[first].1, &mut tail[0].1);
        }
        let mut drop = moves.iter().map(|&(dup, _)| dup).peekable();
        let mut i = 0;
        entries.retain(|_| {
            let keep = drop.peek() != Some(&i);
            if !keep {
                drop.next();
            }
            i += 1;
            keep
        });
        Map { entries }
    }
}

/// Up to this many entries, repeats are found by a scan.
const SMALL: usize = 16;

impl<K: Eq + Hash, V> FromIterator<(K, V)> for Map<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Map::from_entries(iter.into_iter().collect())
    }
}

impl<K: Eq, V> Extend<(K, V)> for Map<K, V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<K: Eq + Hash, V, const N: usize> From<[(K, V); N]> for Map<K, V> {
    fn from(a: [(K, V); N]) -> Self {
        a.into_iter().collect()
    }
}

impl<K: Eq, V> From<std::collections::BTreeMap<K, V>> for Map<K, V> {
    fn from(m: std::collections::BTreeMap<K, V>) -> Self {
        Map {
            entries: m.into_iter().collect(),
        }
    }
}

impl<K, V> IntoIterator for Map<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a, K, V> IntoIterator for &'a Map<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (K, V)>, fn(&'a (K, V)) -> (&'a K, &'a V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

impl<K, V, Q> std::ops::Index<&Q> for Map<K, V>
where
    K: Eq + Borrow<Q>,
    Q: Eq + ?Sized,
{
    type Output = V;
    /// # Panics
    /// When the key is absent, like `BTreeMap`'s index.
    fn index(&self, key: &Q) -> &V {
        self.get(key).expect("no entry for the key")
    }
}

impl<K: Serialize, V: Serialize> Serialize for Map<K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.len()))?;
        for (k, v) in &self.entries {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de, K, V> Deserialize<'de> for Map<K, V>
where
    K: Deserialize<'de> + Eq + Hash,
    V: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V2<K, V>(PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de> + Eq + Hash, V: Deserialize<'de>> Visitor<'de> for V2<K, V> {
            type Value = Map<K, V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Map<K, V>, A::Error> {
                // the size hint is the peer's claim: bounded
                let mut entries = Vec::with_capacity(a.size_hint().unwrap_or(0).min(SMALL));
                while let Some(kv) = a.next_entry()? {
                    entries.push(kv);
                }
                // a repeated key: the last value wins, in the first place
                Ok(Map::from_entries(entries))
            }
        }
        d.deserialize_map(V2(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_kept_and_repeats_replace() {
        let m: Map<String, i32> = serde_json::from_str(r#"{"z":1,"a":2,"z":3}"#).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"z":3,"a":2}"#);
        let mut m = m;
        assert_eq!(m.remove("z"), Some(3));
        assert_eq!(m.keys().collect::<Vec<_>>(), ["a"]);
        assert!(!m.contains_key("z"));
        assert_eq!(m["a"], 2);
    }

    #[test]
    fn large_maps_with_repeats_keep_first_places_and_last_values() {
        // past the scan size, repeats are found through the hash index
        let mut text = String::from("{");
        for i in 0..100_000 {
            text.push_str(&format!("\"k{i}\":{i},"));
        }
        text.push_str("\"k5\":-1,\"k99999\":-2,\"k5\":-3,\"new\":7}");
        let m: Map<String, i64> = serde_json::from_str(&text).unwrap();
        assert_eq!(m.len(), 100_001);
        assert_eq!(m.get("k5"), Some(&-3));
        assert_eq!(m.get("k99999"), Some(&-2));
        let keys: Vec<&String> = m.keys().take(7).collect();
        assert_eq!(keys, ["k0", "k1", "k2", "k3", "k4", "k5", "k6"]);
        assert_eq!(m.keys().last().map(String::as_str), Some("new"));
        assert_eq!(m.keys().nth(99_999).map(String::as_str), Some("k99999"));
        let small: Map<&str, i32> = [("a", 1), ("b", 2), ("a", 3)].into();
        assert_eq!(small.iter().collect::<Vec<_>>(), [(&"a", &3), (&"b", &2)]);
    }

    #[test]
    fn one_entry_is_one_small_allocation() {
        let m: Map<String, String> = serde_json::from_str(r#"{"k":"v"}"#).unwrap();
        assert!(m.entries.capacity() <= 16);
        assert_eq!(std::mem::size_of::<Map<String, String>>(), 24);
    }
}
