//! Where in a JSON text a decode failed.
//!
//! serde_json reports a failure as a line and a column. For a value of the
//! wrong type, a missing field or a decoder's own complaint, that position is
//! the first byte the parser had not consumed: just past the value that
//! failed, or at the start of an object or list it refused without reading.
//! [`locate`] turns the position back into the value's JSON path
//! (`sessions[1].date_time`) and its text, by one bounded scan of the text.
//!
//! Nothing here is generic: naming the failing path costs no second,
//! path-tracking copy of every decoder, and a failed record is decoded once.
//!
//! One kind of failure carries no useful position: a value read as raw text
//! (an id, a number, an embedded record) that its decoder then refused. The
//! error surfaces through the enclosing object, so serde_json places it at
//! that object's end. For those, the raw reader leaves a [`note`] of the text
//! it refused and of its message; [`locate`] trusts the note only when it
//! lies inside the decoded text and the error's message is the note's.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::ops::Range;

use serde_json::error::Category;

/// Deepest nesting followed; serde_json itself stops at 128 levels.
const MAX_DEPTH: usize = 256;

/// The failing value: its path, and its place in the text when the text
/// holds the whole of it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Located {
    /// JSON path (`a.b[2].c`); `.` for the whole text.
    pub path: String,
    /// Byte range of the value in the text.
    pub value: Option<Range<usize>>,
}

/// The raw value a raw reader refused last: its address and length, and
/// the refusal's message.
struct Note {
    addr: usize,
    len: usize,
    message: String,
}

thread_local! {
    static NOTE: RefCell<Option<Note>> = const { RefCell::new(None) };
}

/// Record that the raw value `text` was refused with `message`, or (with
/// `None`) that a raw value was read, which makes any earlier note stale.
pub(crate) fn note(text: &str, message: Option<&dyn fmt::Display>) {
    NOTE.with(|n| match message {
        Some(m) => {
            let mut s = String::new();
            // a message that cannot be formatted leaves an empty note
            let _ = write!(s, "{m}");
            *n.borrow_mut() = Some(Note {
                addr: text.as_ptr() as usize,
                len: text.len(),
                message: s,
            });
        }
        None => {
            if n.borrow().is_some() {
                *n.borrow_mut() = None;
            }
        }
    })
}

/// Forget any note (before a decode starts).
pub(crate) fn clear() {
    NOTE.with(|n| *n.borrow_mut() = None);
}

/// The path and place of the value `err` is about, in `text` (the text the
/// failed decode read).
pub(crate) fn locate(text: &str, err: &serde_json::Error) -> Located {
    let b = text.as_bytes();
    let noted = NOTE.with(|n| {
        let n = n.borrow();
        let n = n.as_ref()?;
        let start = n.addr.checked_sub(b.as_ptr() as usize)?;
        let inside = start.checked_add(n.len).is_some_and(|end| end <= b.len());
        let same = err.to_string().starts_with(n.message.as_str());
        (inside && same && !n.message.is_empty()).then_some(start)
    });
    let target = match noted {
        Some(start) => Target::StartsAt(start),
        None if err.line() == 0 => return whole(b),
        None => {
            let at = offset(b, err.line(), err.column());
            match err.classify() {
                Category::Data => Target::Next(at),
                // the text stops inside a value: the value being read
                Category::Eof => Target::End,
                // syntax errors point one past the byte the parser looked at
                Category::Syntax | Category::Io => {
                    Target::Inside(at.saturating_sub(1).min(b.len()))
                }
            }
        }
    };
    let mut scan = Scan {
        b,
        target,
        path: Vec::new(),
        found: None,
    };
    match scan.value(0, 0) {
        Ok(_) | Err(Stop::Found) | Err(Stop::Broken) => {}
    }
    match scan.found {
        Some((steps, value)) => Located {
            path: render(text, &steps),
            value,
        },
        None => whole(b),
    }
}

/// The whole text as the failing value.
fn whole(b: &[u8]) -> Located {
    Located {
        path: ".".into(),
        value: None,
    }
    .with_value(b)
}

impl Located {
    fn with_value(mut self, b: &[u8]) -> Located {
        let start = skip_ws(b, 0);
        let end = b.len() - b.iter().rev().take_while(|c| is_ws(**c)).count();
        self.value = (start < end).then_some(start..end);
        self
    }
}

/// Byte offset of serde_json's 1-based line and 0-based byte column.
fn offset(b: &[u8], line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match b[start..].iter().position(|c| *c == b'\n') {
            Some(i) => start += i + 1,
            None => return b.len(),
        }
    }
    start.saturating_add(column).min(b.len())
}

/// What the scan looks for.
#[derive(Clone, Copy)]
enum Target {
    /// A data error at this position: the value that ends just before it,
    /// else the one that starts at it, else the innermost one around it.
    Next(usize),
    /// The value that starts here (a noted raw value).
    StartsAt(usize),
    /// The innermost value around this byte (syntax errors).
    Inside(usize),
    /// The value the text stops in (it ends too soon).
    End,
}

#[derive(Clone, Copy)]
enum Step {
    /// An object key: the range of its text between the quotes.
    Key(usize, usize),
    /// A list index.
    Index(usize),
}

enum Stop {
    /// The value was found; nothing more to read.
    Found,
    /// The text is not JSON here (or nests too deep).
    Broken,
}

struct Scan<'a> {
    b: &'a [u8],
    target: Target,
    path: Vec<Step>,
    /// The best match so far: its path and range.
    found: Option<(Vec<Step>, Option<Range<usize>>)>,
}

impl Scan<'_> {
    /// Read the value at or after `i`; its end (exclusive).
    fn value(&mut self, i: usize, depth: usize) -> Result<usize, Stop> {
        let s = skip_ws(self.b, i);
        let starts_here = matches!(self.target, Target::Next(q) | Target::StartsAt(q) if q == s);
        if starts_here {
            // the path is known now, whatever follows (even broken text)
            self.found = Some((self.path.clone(), None));
        }
        let end = match self.b.get(s) {
            None => return Err(self.broken()),
            Some(_) if depth > MAX_DEPTH => return Err(self.broken()),
            Some(b'{') => self.object(s, depth)?,
            Some(b'[') => self.list(s, depth)?,
            Some(b'"') => match string_end(self.b, s) {
                Some(e) => e,
                None => return Err(self.broken()),
            },
            Some(_) => {
                let token = self.b[s..]
                    .iter()
                    .take_while(|c| !is_ws(**c) && !matches!(c, b',' | b']' | b'}' | b':'))
                    .count();
                let word = &self.b[s..s + token];
                let number = word
                    .first()
                    .is_some_and(|c| *c == b'-' || c.is_ascii_digit());
                if !(number || matches!(word, b"true" | b"false" | b"null")) {
                    return Err(self.broken());
                }
                s + token
            }
        };
        let hit = match self.target {
            Target::Next(q) => end == q,
            Target::StartsAt(_) | Target::Inside(_) | Target::End => false,
        };
        if hit || starts_here {
            self.found = Some((self.path.clone(), Some(s..end)));
            return Err(Stop::Found);
        }
        let around = match self.target {
            Target::Next(q) => s <= q && q < end,
            // the parser stops on the byte after a token it cannot take
            Target::Inside(q) => s < q && q <= end,
            Target::StartsAt(_) | Target::End => false,
        };
        if around && self.found.is_none() {
            // innermost first: children are read before their parent ends
            self.found = Some((self.path.clone(), Some(s..end)));
        }
        Ok(end)
    }

    fn object(&mut self, s: usize, depth: usize) -> Result<usize, Stop> {
        let mut i = skip_ws(self.b, s + 1);
        if self.b.get(i) == Some(&b'}') {
            return Ok(i + 1);
        }
        loop {
            if self.b.get(i) != Some(&b'"') {
                return Err(self.broken());
            }
            let Some(k) = string_end(self.b, i) else {
                return Err(self.broken());
            };
            let colon = skip_ws(self.b, k);
            if self.b.get(colon) != Some(&b':') {
                return Err(self.broken());
            }
            self.path.push(Step::Key(i + 1, k - 1));
            let end = self.value(colon + 1, depth + 1);
            self.path.pop();
            let end = end?;
            i = skip_ws(self.b, end);
            match self.b.get(i) {
                Some(b',') => i = skip_ws(self.b, i + 1),
                Some(b'}') => return Ok(i + 1),
                _ => return Err(self.broken()),
            }
        }
    }

    fn list(&mut self, s: usize, depth: usize) -> Result<usize, Stop> {
        let mut i = skip_ws(self.b, s + 1);
        if self.b.get(i) == Some(&b']') {
            return Ok(i + 1);
        }
        let mut n = 0;
        loop {
            self.path.push(Step::Index(n));
            let end = self.value(i, depth + 1);
            self.path.pop();
            let end = end?;
            i = skip_ws(self.b, end);
            match self.b.get(i) {
                Some(b',') => i += 1,
                Some(b']') => return Ok(i + 1),
                _ => return Err(self.broken()),
            }
            n += 1;
        }
    }

    /// The text is not JSON here: the value being read is the answer,
    /// unless a closer one was found already.
    fn broken(&mut self) -> Stop {
        if self.found.is_none() {
            self.found = Some((self.path.clone(), None));
        }
        Stop::Broken
    }
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t')
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|c| is_ws(*c)) {
        i += 1;
    }
    i
}

/// End (exclusive, past the closing quote) of the string starting at `s`.
fn string_end(b: &[u8], s: usize) -> Option<usize> {
    let mut i = s + 1;
    while let Some(c) = b.get(i) {
        match c {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// `a.b[2].c`, with keys unescaped; `.` for the empty path.
fn render(text: &str, steps: &[Step]) -> String {
    if steps.is_empty() {
        return ".".into();
    }
    let mut out = String::new();
    for step in steps {
        match *step {
            Step::Key(a, z) => {
                if !out.is_empty() {
                    out.push('.');
                }
                let raw = text.get(a..z).unwrap_or_default();
                if raw.contains('\\') {
                    let quoted = text.get(a - 1..z + 1).unwrap_or_default();
                    match serde_json::from_str::<String>(quoted) {
                        Ok(k) => out.push_str(&k),
                        Err(_) => out.push_str(raw),
                    }
                } else {
                    out.push_str(raw);
                }
            }
            Step::Index(n) => {
                let _ = write!(out, "[{n}]");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The path of the failure of decoding `text` as `T`.
    fn path_of<T: serde::de::DeserializeOwned + fmt::Debug>(text: &str) -> String {
        clear();
        let err = serde_json::from_str::<T>(text).unwrap_err();
        locate(text, &err).path
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct R {
        id: u32,
        name: String,
        tags: Vec<u8>,
    }

    #[test]
    fn data_errors_name_the_value() {
        assert_eq!(
            path_of::<R>(r#"{"id": "x", "name": "a", "tags": []}"#),
            "id"
        );
        assert_eq!(
            path_of::<R>(r#"{"id": 1, "name": {"a": 1}, "tags": []}"#),
            "name"
        );
        assert_eq!(
            path_of::<R>(r#"{"id": 1, "name": "a", "tags": [1, 300]}"#),
            "tags[1]"
        );
        assert_eq!(path_of::<R>(r#"{"id": 1, "name": "a"}"#), ".");
        assert_eq!(
            path_of::<Vec<R>>(r#"[{"id": 1, "name": "a", "tags": []}, {"id": 1}]"#),
            "[1]"
        );
        assert_eq!(path_of::<R>("{\n  \"id\": 1,\n  \"name\": 5\n}"), "name");
        assert_eq!(path_of::<R>(r#"5"#), ".");
    }

    #[test]
    fn syntax_errors_name_the_value_being_read() {
        assert_eq!(path_of::<R>("{\n  \"id\": 1,\n  \"name\": "), "name");
        assert_eq!(path_of::<R>(r#"{"id": 1, "name": "a"#), "name");
        assert_eq!(path_of::<R>(r#"{"id": 1, "tags": [1, 2"#), "tags");
        assert_eq!(path_of::<R>(r#"{"id": tru}"#), "id");
    }

    #[test]
    fn a_note_is_trusted_only_inside_the_text_and_with_its_message() {
        let text = r#"{"id": 1, "name": "a", "tags": []}"#;
        let err = serde_json::from_str::<R>(r#"{"id": 1}"#).unwrap_err();
        // a note about another text is ignored
        note("elsewhere", Some(&"missing field `name`"));
        assert_eq!(locate(text, &err).path, ".");
        // a note with another message is ignored
        note(&text[18..21], Some(&"something else"));
        assert_eq!(locate(text, &err).path, ".");
        // a matching note names its value
        note(&text[18..21], Some(&"missing field `name`"));
        let at = locate(text, &err);
        assert_eq!(at.path, "name");
        assert_eq!(at.value, Some(18..21));
        // a value read since makes it stale
        note("x", None);
        assert_eq!(locate(text, &err).path, ".");
    }
}
