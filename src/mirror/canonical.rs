//! Canonical JSON: one text per JSON value, so that a record whose value did
//! not change always hashes the same, however the server wrote it.
//!
//! What is normalized (and nothing else):
//!
//! * **Whitespace** outside strings is dropped.
//! * **Object keys** are sorted by their UTF-8 bytes (after unescaping). A key
//!   written twice keeps its last value, as `serde_json` reads it.
//! * **Strings** (keys and values) are unescaped and written again one way:
//!   `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other control characters as
//!   `\u00XX` (lower-case hex), everything else as plain UTF-8 (`"\u00e9"` and
//!   `"é"` are the same string; `\/` is `/`).
//! * **Numbers** by their exact decimal value, never through a float: the sign,
//!   the significant digits without leading or trailing zeros and a power of
//!   ten: `12.50`, `12.5`, `1.25e1`, `125E-1` and `0.125e+2` are all `125e-1`;
//!   `100`, `1e2` and `100.0` are `1e2`; `-0`, `0.0` and `0e7` are `0`. No
//!   digit is ever dropped, so `0.1` and `0.10000000000000000001` stay
//!   different, and `1e400` is as good as any other number. (An exponent
//!   beyond ±10¹⁸ is kept as written, lower-cased, without a `+`.)
//! * **To-many relation lists** of a record (fields the metadata marks
//!   `many` with a `related` model, e.g. a session's `projects`), at the top
//!   level only, are sorted (by canonical text, duplicates kept): they are sets
//!   of ids, which Django returns in no guaranteed order. Every other array
//!   keeps its order.
//!
//! `true`, `false` and `null` are themselves. Nothing is dropped: a key with
//! the value `null` differs from an absent key.

use std::borrow::Cow;

use crate::meta::ModelMeta;

/// Deeper nesting than this is refused (the client refuses much less deep
/// bodies already; this only keeps the recursion bounded).
pub const MAX_DEPTH: usize = 512;

/// Text that is not one JSON value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not canonicalizable JSON at byte {at}: {message}")]
pub struct CanonicalError {
    /// Byte offset of the problem.
    pub at: usize,
    /// What is wrong.
    pub message: String,
}

/// The canonical text of one JSON value (see the [module docs](self)).
///
/// ```
/// use brainstem::mirror::canonical::canonical_json;
/// let a = canonical_json(r#"{"b": 12.50, "a": ["x", "\u00e9"]}"#).unwrap();
/// let b = canonical_json(r#"{"a":["x","é"],"b":1.25e1}"#).unwrap();
/// assert_eq!(a, b);
/// assert_eq!(a, r#"{"a":["x","é"],"b":125e-1}"#);
/// ```
pub fn canonical_json(text: &str) -> Result<String, CanonicalError> {
    canonical_record(text, None)
}

/// The canonical text of a record of `meta` (its to-many relation lists sorted
/// as sets); without `meta` the same as [`canonical_json`].
///
/// ```
/// use brainstem::mirror::canonical::canonical_record;
/// let meta = brainstem::meta::ModelMeta::find("session").unwrap();
/// let a = canonical_record(r#"{"projects": ["b", "a"]}"#, Some(meta)).unwrap();
/// assert_eq!(a, r#"{"projects":["a","b"]}"#);
/// ```
pub fn canonical_record(text: &str, meta: Option<&ModelMeta>) -> Result<String, CanonicalError> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    p.ws();
    let mut out = String::with_capacity(text.len());
    p.value(&mut out, 0, meta)?;
    p.ws();
    if p.i != p.s.len() {
        return Err(p.err("text after the value"));
    }
    Ok(out)
}

/// The SHA-256 of a record's canonical text ([`canonical_record`]): equal for
/// two records exactly when their canonical texts are equal (barring a
/// SHA-256 collision).
///
/// ```
/// use brainstem::mirror::canonical::record_hash;
/// let a = record_hash(r#"{"id": 1, "n": 1.0}"#, None).unwrap();
/// let b = record_hash(r#"{"n": 1, "id": 1}"#, None).unwrap();
/// assert_eq!(a, b);
/// assert_ne!(a, record_hash(r#"{"n": 2, "id": 1}"#, None).unwrap());
/// ```
pub fn record_hash(text: &str, meta: Option<&ModelMeta>) -> Result<[u8; 32], CanonicalError> {
    use sha2::Digest;
    let canon = canonical_record(text, meta)?;
    Ok(sha2::Sha256::digest(canon.as_bytes()).into())
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn err(&self, message: &str) -> CanonicalError {
        CanonicalError {
            at: self.i,
            message: message.to_string(),
        }
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.i) {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn literal(&mut self, word: &str, out: &mut String) -> Result<(), CanonicalError> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            out.push_str(word);
            Ok(())
        } else {
            Err(self.err("not a JSON value"))
        }
    }

    /// One value, written canonically to `out`. `meta`: the record's model,
    /// given for the top-level object only.
    fn value(
        &mut self,
        out: &mut String,
        depth: usize,
        meta: Option<&ModelMeta>,
    ) -> Result<(), CanonicalError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        match self.peek() {
            Some(b'{') => self.object(out, depth, meta),
            Some(b'[') => self.array(out, depth, false),
            Some(b'"') => {
                let s = self.string()?;
                write_string(&s, out);
                Ok(())
            }
            Some(b't') => self.literal("true", out),
            Some(b'f') => self.literal("false", out),
            Some(b'n') => self.literal("null", out),
            Some(b'-' | b'0'..=b'9') => self.number(out),
            Some(_) => Err(self.err("not a JSON value")),
            None => Err(self.err("unexpected end")),
        }
    }

    fn object(
        &mut self,
        out: &mut String,
        depth: usize,
        meta: Option<&ModelMeta>,
    ) -> Result<(), CanonicalError> {
        self.i += 1; // '{'
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            out.push_str("{}");
            return Ok(());
        }
        // Each member's canonical value is written to `out` as it is read;
        // `members` keeps its key and where its value lies, so that sorting
        // moves ranges, not strings.
        let base = out.len();
        let mut members: Vec<(Cow<'a, str>, usize, usize)> = Vec::new();
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("expected a key"));
            }
            let key = self.string()?;
            self.ws();
            if self.peek() != Some(b':') {
                return Err(self.err("expected `:`"));
            }
            self.i += 1;
            self.ws();
            let set = meta
                .and_then(|m| m.field(&key))
                .is_some_and(|f| f.many && f.related.is_some())
                && self.peek() == Some(b'[');
            let start = out.len();
            if set {
                self.array(out, depth + 1, true)?;
            } else {
                self.value(out, depth + 1, None)?;
            }
            members.push((key, start - base, out.len() - base));
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    break;
                }
                _ => return Err(self.err("expected `,` or `}`")),
            }
        }
        // stable: among equal keys the last one written stays last
        members.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        let values = out.split_off(base);
        out.push('{');
        let mut first = true;
        for (n, (k, from, to)) in members.iter().enumerate() {
            if members.get(n + 1).is_some_and(|next| next.0 == *k) {
                continue; // a later value for the same key wins
            }
            if !first {
                out.push(',');
            }
            first = false;
            write_string(k, out);
            out.push(':');
            out.push_str(&values[*from..*to]);
        }
        out.push('}');
        Ok(())
    }

    fn array(&mut self, out: &mut String, depth: usize, sort: bool) -> Result<(), CanonicalError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        self.i += 1; // '['
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            out.push_str("[]");
            return Ok(());
        }
        // in order: written straight to `out`; sorted: each item's range
        // in `out`, sorted by its text and written again
        let base = out.len();
        if !sort {
            out.push('[');
        }
        let mut items: Vec<(usize, usize)> = Vec::new();
        loop {
            self.ws();
            if !sort && out.len() > base + 1 {
                out.push(',');
            }
            let start = out.len();
            self.value(out, depth + 1, None)?;
            if sort {
                items.push((start - base, out.len() - base));
            }
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    break;
                }
                _ => return Err(self.err("expected `,` or `]`")),
            }
        }
        if !sort {
            out.push(']');
            return Ok(());
        }
        let values = out.split_off(base);
        items.sort_unstable_by(|a, b| values[a.0..a.1].cmp(&values[b.0..b.1]));
        out.push('[');
        for (n, (from, to)) in items.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            out.push_str(&values[*from..*to]);
        }
        out.push(']');
        Ok(())
    }

    /// A string's value (the parser stands on its opening quote): borrowed
    /// from the text when it has no escape.
    fn string(&mut self) -> Result<Cow<'a, str>, CanonicalError> {
        self.i += 1;
        let mut start = self.i;
        // the unescaped text so far, once an escape was met
        let mut owned: Option<String> = None;
        loop {
            let Some(b) = self.peek() else {
                return Err(self.err("unterminated string"));
            };
            match b {
                b'"' => {
                    let tail = self.utf8(start, self.i)?;
                    self.i += 1;
                    return Ok(match owned {
                        None => Cow::Borrowed(tail),
                        Some(mut o) => {
                            o.push_str(tail);
                            Cow::Owned(o)
                        }
                    });
                }
                b'\\' => {
                    let piece = self.utf8(start, self.i)?;
                    let o = owned.get_or_insert_with(String::new);
                    o.push_str(piece);
                    self.i += 1;
                    let Some(e) = self.peek() else {
                        return Err(self.err("unterminated escape"));
                    };
                    self.i += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return Err(self.err("unknown escape")),
                    };
                    owned.get_or_insert_with(String::new).push(c);
                    start = self.i;
                }
                0..=0x1f => return Err(self.err("control character in a string")),
                _ => self.i += 1,
            }
        }
    }

    fn utf8(&self, from: usize, to: usize) -> Result<&'a str, CanonicalError> {
        std::str::from_utf8(&self.s[from..to]).map_err(|_| CanonicalError {
            at: from,
            message: "invalid UTF-8".into(),
        })
    }

    fn hex4(&mut self) -> Result<u32, CanonicalError> {
        let digits = self
            .s
            .get(self.i..self.i + 4)
            .ok_or_else(|| self.err("short \\u escape"))?;
        let text = std::str::from_utf8(digits).map_err(|_| self.err("bad \\u escape"))?;
        let v = u32::from_str_radix(text, 16).map_err(|_| self.err("bad \\u escape"))?;
        if !digits.iter().all(u8::is_ascii_hexdigit) {
            return Err(self.err("bad \\u escape"));
        }
        self.i += 4;
        Ok(v)
    }

    /// The character of a `\uXXXX` escape (a surrogate pair taken whole; a
    /// lone surrogate, which no Rust string can hold, becomes U+FFFD as
    /// `serde_json` would refuse it instead).
    fn unicode_escape(&mut self) -> Result<char, CanonicalError> {
        let hi = self.hex4()?;
        if (0xD800..0xDC00).contains(&hi) && self.s[self.i..].starts_with(b"\\u") {
            let save = self.i;
            self.i += 2;
            let lo = self.hex4()?;
            if (0xDC00..0xE000).contains(&lo) {
                let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                return Ok(char::from_u32(c).unwrap_or('\u{FFFD}'));
            }
            self.i = save;
        }
        Ok(char::from_u32(hi).unwrap_or('\u{FFFD}'))
    }

    /// A number, written by its exact decimal value.
    fn number(&mut self, out: &mut String) -> Result<(), CanonicalError> {
        let start = self.i;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.i += 1;
        }
        let int_start = self.i;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.i += 1;
        }
        let int = &self.s[int_start..self.i];
        if int.is_empty() || (int.len() > 1 && int[0] == b'0') {
            return Err(self.err("malformed number"));
        }
        let mut frac: &[u8] = &[];
        if self.peek() == Some(b'.') {
            self.i += 1;
            let f = self.i;
            while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                self.i += 1;
            }
            frac = &self.s[f..self.i];
            if frac.is_empty() {
                return Err(self.err("malformed number"));
            }
        }
        let mut exp: Option<i128> = Some(0);
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            let mut neg = false;
            match self.peek() {
                Some(b'+') => self.i += 1,
                Some(b'-') => {
                    neg = true;
                    self.i += 1;
                }
                _ => {}
            }
            let e = self.i;
            while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                self.i += 1;
            }
            let digits = &self.s[e..self.i];
            if digits.is_empty() {
                return Err(self.err("malformed number"));
            }
            let trimmed: &[u8] = {
                let z = digits.iter().take_while(|&&d| d == b'0').count();
                &digits[z..]
            };
            exp = if trimmed.len() > 18 {
                None
            } else {
                let v = trimmed
                    .iter()
                    .fold(0i128, |acc, d| acc * 10 + i128::from(d - b'0'));
                Some(if neg { -v } else { v })
            };
        }
        // significant digits and the power of ten of the last one
        let mut digits: Vec<u8> = Vec::with_capacity(int.len() + frac.len());
        digits.extend_from_slice(int);
        digits.extend_from_slice(frac);
        let lead = digits.iter().take_while(|&&d| d == b'0').count();
        let digits = &digits[lead..];
        if digits.is_empty() {
            out.push('0');
            return Ok(());
        }
        let trail = digits.iter().rev().take_while(|&&d| d == b'0').count();
        let sig = &digits[..digits.len() - trail];
        let Some(exp) = exp else {
            // an exponent beyond ±10^18: as written, lower-cased, no `+`
            let text = std::str::from_utf8(&self.s[start..self.i]).unwrap_or_default();
            out.push_str(&text.to_ascii_lowercase().replace('+', ""));
            return Ok(());
        };
        let power = exp - frac.len() as i128 + trail as i128;
        if negative {
            out.push('-');
        }
        // `sig` holds ASCII digits only
        out.push_str(std::str::from_utf8(sig).unwrap_or_default());
        if power != 0 {
            out.push('e');
            out.push_str(&power.to_string());
        }
        Ok(())
    }
}

/// Write a string in the one escaping canonical texts use.
fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> String {
        canonical_json(s).unwrap()
    }

    #[test]
    fn numbers_by_value() {
        for same in [
            &["12.50", "12.5", "1.25e1", "125E-1", "0.125e+2", "1250e-2"][..],
            &["100", "1e2", "100.0", "1E+2", "0.001e5"],
            &["0", "-0", "0.0", "0e7", "-0.000e-3"],
            &["-3", "-3.000", "-0.3e1"],
            &["1e400", "10e399", "1.0e400"],
        ] {
            let first = c(same[0]);
            for s in same {
                assert_eq!(c(s), first, "{s} vs {}", same[0]);
            }
        }
        assert_eq!(c("12.50"), "125e-1");
        assert_eq!(c("100"), "1e2");
        assert_eq!(c("7"), "7");
        assert_eq!(c("-0.0"), "0");
        assert_ne!(c("0.1"), c("0.10000000000000000001"));
        assert_ne!(c("1"), c("-1"));
        assert_ne!(c("1e2"), c("1e3"));
        // an exponent past 10^18: kept as written
        assert_eq!(c("1E+9999999999999999999"), "1e9999999999999999999");
    }

    #[test]
    fn keys_sorted_strings_unescaped() {
        assert_eq!(
            c(r#" { "b" : [ 1 , {"y":null,"x":true} ], "a":"\u00e9\/\n" } "#),
            r#"{"a":"é/\n","b":[1,{"x":true,"y":null}]}"#
        );
        assert_eq!(c(r#"{"k":1,"k":2}"#), r#"{"k":2}"#);
        assert_eq!(c(r#""\ud83d\ude00""#), "\"😀\"");
        assert_eq!(c("\"\\u0001\""), "\"\\u0001\"");
        // array order is kept
        assert_ne!(c("[1,2]"), c("[2,1]"));
        // null differs from absent
        assert_ne!(c(r#"{"a":null}"#), c("{}"));
    }

    #[test]
    fn refuses_what_is_not_json() {
        for bad in [
            "",
            "{",
            "[1,]",
            "01",
            "1.",
            "1e",
            "\"a",
            "{\"a\" 1}",
            "nul",
            "1 2",
            "\u{1}",
            "\"\\x\"",
            "-",
        ] {
            assert!(canonical_json(bad).is_err(), "{bad:?}");
        }
        let deep = "[".repeat(MAX_DEPTH + 5) + &"]".repeat(MAX_DEPTH + 5);
        assert!(canonical_json(&deep).is_err());
    }

    #[test]
    fn nested_values_keep_their_place_while_members_are_sorted() {
        // objects in arrays in objects, empty containers, a key that sorts by
        // its unescaped text, duplicates at depth
        assert_eq!(
            c(
                r#"{"z":[{"b":[],"a":{}},[],{"d":1,"c":[{"f":2,"e":"\u0041"}]}],"\u0061b":0,"y":{"k":1,"k":[3,2]}}"#
            ),
            r#"{"ab":0,"y":{"k":[3,2]},"z":[{"a":{},"b":[]},[],{"c":[{"e":"A","f":2}],"d":1}]}"#
        );
        // a relation set whose items are written in several pieces still
        // sorts by each item's whole canonical text
        let meta = ModelMeta::find("session").unwrap();
        let r = canonical_record(
            r#"{"projects":["b\"x","a",  "b", "a"],"name":"n","behaviors":[]}"#,
            Some(meta),
        )
        .unwrap();
        assert_eq!(
            r,
            r#"{"behaviors":[],"name":"n","projects":["a","a","b","b\"x"]}"#
        );
    }

    #[test]
    fn relation_sets_sorted_at_the_top_only() {
        let meta = ModelMeta::find("session").unwrap();
        let a = canonical_record(r#"{"projects":["b","a"],"tags":["b","a"]}"#, Some(meta));
        let a = a.unwrap();
        assert!(a.contains(r#""projects":["a","b"]"#), "{a}");
        // tags is not a relation: its order is kept
        if meta.field("tags").is_some_and(|f| f.related.is_none()) {
            assert!(a.contains(r#""tags":["b","a"]"#), "{a}");
        }
        // nested: not sorted
        let n = canonical_record(r#"{"x":{"projects":["b","a"]}}"#, Some(meta)).unwrap();
        assert!(n.contains(r#"["b","a"]"#));
    }
}
