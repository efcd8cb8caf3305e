//! JSON numbers exactly as written.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::raw_json::{RawSink, deserialize_raw, serialize_raw};

/// A JSON number, kept exactly: an integer stays an integer, `12.50` keeps
/// its trailing zero, and numbers beyond `f64` (a 5,000-digit integer,
/// `1e400`) are kept as their text instead of failing.
///
/// Two numbers are equal when their JSON text is. [`as_f64`](Number::as_f64)
/// gives the value as a float (infinite or rounded when it does not fit).
///
/// ```
/// use brainstem::Number;
/// let n: Number = serde_json::from_str("12").unwrap();
/// assert_eq!(n.as_i64(), Some(12));
/// assert_eq!(serde_json::to_string(&n).unwrap(), "12");
///
/// let x: Number = serde_json::from_str("12.50").unwrap();
/// assert_eq!(x.as_f64(), 12.5);
/// assert_eq!(x.to_string(), "12.50");
///
/// let huge = format!("1{}", "0".repeat(5000));
/// let h: Number = serde_json::from_str(&huge).unwrap();
/// assert!(h.is_integer() && h.as_i64().is_none());
/// assert_eq!(serde_json::to_string(&h).unwrap(), huge);
///
/// assert_eq!(Number::from(2.5), "2.5".parse().unwrap());
/// assert_ne!(Number::from(3), Number::from(3.0));
/// ```
#[derive(Clone)]
pub struct Number(Repr);

#[derive(Clone)]
enum Repr {
    /// An integer in `i64`.
    Int(i64),
    /// An integer above `i64::MAX` in `u64`.
    UInt(u64),
    /// A float whose shortest form is the text.
    Float(f64),
    /// Any other valid JSON number, as its text.
    Text(Box<str>),
}

/// A string that is not a JSON number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidNumber(String);

impl fmt::Display for InvalidNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not a JSON number", self.0)
    }
}

impl std::error::Error for InvalidNumber {}

/// Whether `s` follows the JSON number grammar.
fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    i == b.len()
}

impl Number {
    /// Read valid JSON number text (not checked again).
    pub(crate) fn from_json_text(s: &str) -> Number {
        if !s.bytes().any(|b| matches!(b, b'.' | b'e' | b'E')) {
            if s != "-0" {
                if let Ok(i) = s.parse::<i64>() {
                    return Number(Repr::Int(i));
                }
                if let Ok(u) = s.parse::<u64>() {
                    return Number(Repr::UInt(u));
                }
            }
        } else if let Ok(f) = s.parse::<f64>()
            && f.is_finite()
            && ryu::Buffer::new().format_finite(f) == s
        {
            return Number(Repr::Float(f));
        }
        Number(Repr::Text(s.into()))
    }

    /// The value as a float: exact for integers up to 2^53 and for floats,
    /// rounded otherwise; infinite for numbers beyond `f64`'s range.
    pub fn as_f64(&self) -> f64 {
        match &self.0 {
            Repr::Int(i) => *i as f64,
            Repr::UInt(u) => *u as f64,
            Repr::Float(f) => *f,
            Repr::Text(t) => t.parse().unwrap_or(f64::NAN),
        }
    }

    /// The value, when it was written as an integer that fits `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match &self.0 {
            Repr::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The value, when it was written as an integer that fits `u64`.
    pub fn as_u64(&self) -> Option<u64> {
        match &self.0 {
            Repr::Int(i) => u64::try_from(*i).ok(),
            Repr::UInt(u) => Some(*u),
            _ => None,
        }
    }

    /// Whether it was written as an integer (no fraction, no exponent).
    pub fn is_integer(&self) -> bool {
        match &self.0 {
            Repr::Int(_) | Repr::UInt(_) => true,
            Repr::Float(_) => false,
            Repr::Text(t) => !t.bytes().any(|b| matches!(b, b'.' | b'e' | b'E')),
        }
    }

    /// Whether [`as_f64`](Number::as_f64) is finite (the number is within
    /// `f64`'s range).
    pub fn is_finite(&self) -> bool {
        self.as_f64().is_finite()
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Int(i) => write!(f, "{i}"),
            Repr::UInt(u) => write!(f, "{u}"),
            Repr::Float(x) if x.is_finite() => f.write_str(ryu::Buffer::new().format_finite(*x)),
            Repr::Float(_) => f.write_str("null"),
            Repr::Text(t) => f.write_str(t),
        }
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({self})")
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Repr::Int(a), Repr::Int(b)) => a == b,
            (Repr::UInt(a), Repr::UInt(b)) => a == b,
            (Repr::Float(a), Repr::Float(b)) => a.to_bits() == b.to_bits(),
            (Repr::Text(a), Repr::Text(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Number {}

impl Default for Number {
    /// `0`.
    fn default() -> Self {
        Number(Repr::Int(0))
    }
}

impl std::str::FromStr for Number {
    type Err = InvalidNumber;
    /// Parse JSON number text (`"12"`, `"12.50"`, `"1e400"`), kept as written.
    fn from_str(s: &str) -> Result<Self, InvalidNumber> {
        if is_json_number(s) {
            Ok(Number::from_json_text(s))
        } else {
            Err(InvalidNumber(s.to_string()))
        }
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Number {
            fn from(v: $t) -> Self {
                Number(Repr::Int(i64::from(v)))
            }
        }
    )*};
}
from_int!(i8, i16, i32, i64, u8, u16, u32);

impl From<u64> for Number {
    fn from(v: u64) -> Self {
        match i64::try_from(v) {
            Ok(i) => Number(Repr::Int(i)),
            Err(_) => Number(Repr::UInt(v)),
        }
    }
}

impl From<f64> for Number {
    /// A float (written in its shortest form, `50.0` as `50.0`). Like
    /// serde_json, a NaN or infinite value is written as `null`.
    fn from(v: f64) -> Self {
        Number(Repr::Float(v))
    }
}

impl From<f32> for Number {
    fn from(v: f32) -> Self {
        Number(Repr::Float(f64::from(v)))
    }
}

impl From<&serde_json::Number> for Number {
    fn from(n: &serde_json::Number) -> Self {
        Number::from_json_text(&n.to_string())
    }
}

impl From<serde_json::Number> for Number {
    fn from(n: serde_json::Number) -> Self {
        Number::from(&n)
    }
}

impl Serialize for Number {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Repr::Int(i) => s.serialize_i64(*i),
            Repr::UInt(u) => s.serialize_u64(*u),
            Repr::Float(f) => s.serialize_f64(*f),
            Repr::Text(t) => serialize_raw(t, s),
        }
    }
}

struct NumberSink;

impl<'de> RawSink<'de> for NumberSink {
    type Value = Number;
    fn expecting(&self) -> &'static str {
        "a number"
    }
    fn raw<E: de::Error>(self, text: &str) -> Result<Number, E> {
        match text.as_bytes().first() {
            Some(b'-' | b'0'..=b'9') => Ok(Number::from_json_text(text)),
            _ => Err(E::invalid_type(unexpected(text), &"a number")),
        }
    }
    fn fallback<D: Deserializer<'de>>(self, d: D) -> Result<Number, D::Error> {
        d.deserialize_any(PlainNumber)
    }
}

/// How a raw value that is not what was expected is named in errors.
pub(crate) fn unexpected(text: &str) -> de::Unexpected<'_> {
    match text.as_bytes().first() {
        Some(b'"') => de::Unexpected::Other("a string"),
        Some(b'{') => de::Unexpected::Map,
        Some(b'[') => de::Unexpected::Seq,
        Some(b't') => de::Unexpected::Bool(true),
        Some(b'f') => de::Unexpected::Bool(false),
        Some(b'n') => de::Unexpected::Unit,
        _ => de::Unexpected::Other(text),
    }
}

struct PlainNumber;

impl Visitor<'_> for PlainNumber {
    type Value = Number;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Number, E> {
        Ok(Number::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Number, E> {
        Ok(Number::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Number, E> {
        Ok(Number::from(v))
    }
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_raw(d, NumberSink)
    }
}

impl crate::Absent for Number {
    fn absent() -> Self {
        Number::default()
    }
    fn is_absent(&self) -> bool {
        matches!(self.0, Repr::Int(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar() {
        for ok in ["0", "-0", "12", "-3.5", "1e400", "1E+2", "0.0"] {
            assert!(ok.parse::<Number>().is_ok(), "{ok}");
        }
        for bad in ["", "-", "01", "1.", ".5", "1e", "+1", "NaN", "1 "] {
            assert!(bad.parse::<Number>().is_err(), "{bad}");
        }
    }

    #[test]
    fn forms_are_kept() {
        for text in [
            "12",
            "-0",
            "12.50",
            "1e400",
            "1E2",
            "0.1",
            "18446744073709551615",
        ] {
            let n: Number = serde_json::from_str(text).unwrap();
            assert_eq!(serde_json::to_string(&n).unwrap(), text);
            assert_eq!(n.to_string(), text);
        }
        let n: Number = serde_json::from_str("12").unwrap();
        assert!(matches!(n.0, Repr::Int(12)));
        let n: Number = serde_json::from_str("2.5").unwrap();
        assert!(matches!(n.0, Repr::Float(_)));
    }

    #[test]
    fn from_a_value_too() {
        let n: Number = serde_json::from_value(serde_json::json!(7)).unwrap();
        assert_eq!(n, Number::from(7));
        assert!(serde_json::from_str::<Number>("\"7\"").is_err());
    }
}
