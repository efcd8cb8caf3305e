//! A fast path for the timestamps of response records.
//!
//! chrono's own parser handles every RFC 3339 variant (and some relaxed
//! forms) through a general format machine, about 1,700 instructions per
//! value. The server sends one form, `2021-01-04T09:00:00Z` or with a
//! fraction and a numeric offset; that form is read here directly. Anything
//! else goes to chrono, so the result is always what chrono's `Deserialize`
//! gives: the fast path only accepts text that chrono reads the same way.
//! Used by generated decoders; not a stable API.

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde::de::{self, Deserialize, Deserializer, Visitor};

/// Reads `T` through the fast path (`DateTime<Utc>` and `Option` of it).
pub struct Fast<T>(pub T);

/// A type with a fast decoding path.
pub trait FastDecode: Sized {
    /// Decode `Self`, as its `Deserialize` impl would.
    fn fast<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
}

impl<'de, T: FastDecode> Deserialize<'de> for Fast<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::fast(d).map(Fast)
    }
}

impl FastDecode for DateTime<Utc> {
    fn fast<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(TimeVisitor)
    }
}

impl<T: FastDecode> FastDecode for Option<T> {
    fn fast<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: FastDecode> Visitor<'de> for V<T> {
            type Value = Option<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("option")
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                T::fast(d).map(Some)
            }
        }
        d.deserialize_option(V(std::marker::PhantomData))
    }
}

struct TimeVisitor;

impl Visitor<'_> for TimeVisitor {
    type Value = DateTime<Utc>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // chrono's own wording, so errors read the same on either path
        f.write_str("an RFC 3339 formatted date and time string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        match parse(v) {
            Some(t) => Ok(t),
            None => v
                .parse::<DateTime<FixedOffset>>()
                .map(|t| t.with_timezone(&Utc))
                .map_err(E::custom),
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` with an uppercase `T`/`Z`, at
/// most 9 fraction digits, no leap second; `None` for anything else.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let year = digits(b, 0, 4)? as i32;
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    let second = digits(b, 17, 2)?;
    if second > 59 {
        return None;
    }
    let mut i = 19;
    let mut nano = 0u32;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        let mut end = start;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
        let n = end - start;
        if n == 0 || n > 9 {
            return None;
        }
        nano = digits(b, start, n)? * 10u32.pow((9 - n) as u32);
        i = end;
    }
    let offset = match &b[i..] {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let h = digits(&[*h1, *h2], 0, 2)? as i32;
            let m = digits(&[*m1, *m2], 0, 2)? as i32;
            if h > 23 || m > 59 {
                return None;
            }
            let secs = h * 3600 + m * 60;
            if *sign == b'-' { -secs } else { secs }
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nano)?;
    let local = NaiveDateTime::new(date, time);
    let utc = local.checked_sub_offset(FixedOffset::east_opt(offset)?)?;
    Some(DateTime::from_naive_utc_and_offset(utc, Utc))
}

/// The decimal number of `b[at..at + n]`, all ASCII digits.
fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let mut v = 0u32;
    for &c in b.get(at..at + n)? {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chrono(s: &str) -> Option<DateTime<Utc>> {
        s.parse::<DateTime<FixedOffset>>()
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    #[test]
    fn agrees_with_chrono_wherever_it_answers() {
        let cases = [
            "2021-01-04T09:00:00Z",
            "2021-01-04T09:00:00.5Z",
            "2021-01-04T09:00:00.123456Z",
            "2021-01-04T09:00:00.123456789Z",
            "2021-01-04T09:00:00.1234567891Z",
            "2021-01-04T09:00:00+02:00",
            "2021-01-04T00:30:00-05:30",
            "2021-01-01T00:00:00+23:59",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999-23:59",
            "2020-02-29T12:00:00Z",
            "2021-02-29T12:00:00Z",
            "2021-13-01T00:00:00Z",
            "2021-01-32T00:00:00Z",
            "2021-01-04T24:00:00Z",
            "2021-01-04T23:60:00Z",
            "2021-01-04T23:59:60Z",
            "2021-01-04t09:00:00z",
            "2021-01-04 09:00:00Z",
            "2021-01-04T09:00:00",
            "2021-01-04T09:00:00+0200",
            "2021-01-04T09:00:00+24:00",
            "2021-01-04T09:00:00.Z",
            "2021-01-04T09:00:00ZZ",
            "+2021-01-04T09:00:00Z",
            "2021-1-04T09:00:00Z",
            "2021-01-04T09:00:00\u{e9}",
            "",
        ];
        for s in cases {
            if let Some(fast) = parse(s) {
                assert_eq!(Some(fast), chrono(s), "{s}");
            }
            let via_serde: Result<Fast<DateTime<Utc>>, _> =
                serde_json::from_value(serde_json::Value::String(s.into()));
            assert_eq!(via_serde.ok().map(|f| f.0), chrono(s), "{s}");
        }
        assert!(parse("2021-01-04T09:00:00Z").is_some());
        assert!(parse("2021-01-04T09:00:00.123456+02:00").is_some());
    }

    #[test]
    fn agrees_with_chrono_on_generated_text() {
        // every field at its edges and in between, with each fraction length
        let mut n = 0;
        for (y, mo, d) in [
            (1, 1, 1),
            (1999, 12, 31),
            (2024, 2, 29),
            (2023, 2, 29),
            (2023, 4, 31),
        ] {
            for (h, mi, s) in [(0, 0, 0), (23, 59, 59), (12, 30, 45)] {
                for frac in ["", ".1", ".12", ".123456", ".999999999"] {
                    for off in ["Z", "+00:00", "-00:00", "+05:45", "-12:00"] {
                        let t = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}{off}");
                        assert_eq!(parse(&t), chrono(&t), "{t}");
                        n += 1;
                    }
                }
            }
        }
        assert_eq!(n, 5 * 3 * 5 * 5);
    }

    #[test]
    fn null_and_errors() {
        let v: Fast<Option<DateTime<Utc>>> = serde_json::from_str("null").unwrap();
        assert!(v.0.is_none());
        let v: Fast<Option<DateTime<Utc>>> =
            serde_json::from_str(r#""2021-01-04T09:00:00Z""#).unwrap();
        assert_eq!(v.0, chrono("2021-01-04T09:00:00Z"));
        let fast = serde_json::from_str::<Fast<DateTime<Utc>>>(r#""soon""#)
            .err()
            .unwrap()
            .to_string();
        let slow = serde_json::from_str::<DateTime<Utc>>(r#""soon""#)
            .err()
            .unwrap()
            .to_string();
        assert_eq!(fast, slow);
        let fast = serde_json::from_str::<Fast<DateTime<Utc>>>("12")
            .err()
            .unwrap()
            .to_string();
        let slow = serde_json::from_str::<DateTime<Utc>>("12")
            .err()
            .unwrap()
            .to_string();
        assert_eq!(fast, slow);
    }
}
