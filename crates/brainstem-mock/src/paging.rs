//! Which records a list page holds, for both pagination styles: DRF's
//! `LimitOffsetPagination` and dynamic-rest's `DynamicPageNumberPagination`
//! (with its paginator that can skip counting).

use axum::http::StatusCode;

use super::dialect::Dialect;
use super::reply::ApiError;

/// The last value of a query parameter (Django's `QueryDict.get`).
fn last<'p>(pairs: &'p [(String, String)], name: &str) -> Option<&'p str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Python's `int(text)`: surrounding whitespace, a sign, digits with single
/// underscores between them. `None` when Python would raise `ValueError`
/// (or the value does not fit an `i128`).
pub(crate) fn py_int(s: &str) -> Option<i128> {
    let t = s.trim();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let b = digits.as_bytes();
    if b.is_empty() || b[0] == b'_' || b[b.len() - 1] == b'_' || digits.contains("__") {
        return None;
    }
    if !b.iter().all(|c| c.is_ascii_digit() || *c == b'_') {
        return None;
    }
    let n: i128 = digits.replace('_', "").parse().ok()?;
    Some(if neg { -n } else { n })
}

/// DRF's `_positive_int` (`None` where it raises, so the default applies).
pub(crate) fn positive_int(s: &str, strict: bool) -> Option<usize> {
    let n = py_int(s)?;
    if n < 0 || (strict && n == 0) {
        return None;
    }
    Some(usize::try_from(n).unwrap_or(usize::MAX))
}

/// The page size a request asks for through `param`, cut to the maximum,
/// or the default.
fn page_size(pairs: &[(String, String)], param: &str, d: &Dialect) -> usize {
    last(pairs, param)
        .and_then(|v| positive_int(v, true))
        .map(|n| d.max_page_size.map_or(n, |m| n.min(m)))
        .unwrap_or(d.default_page_size)
        .max(1)
}

/// `limit` and `offset` as DRF reads them (bad values fall back to the
/// defaults).
pub(crate) fn limit_offset(pairs: &[(String, String)], d: &Dialect) -> (usize, usize) {
    let limit = page_size(pairs, "limit", d);
    let offset = last(pairs, "offset")
        .and_then(|v| positive_int(v, false))
        .unwrap_or(0);
    (limit, offset)
}

/// One page in page-number style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Page {
    /// The page number (from 1).
    pub number: u64,
    pub per_page: usize,
    /// First record (index into the whole list).
    pub start: usize,
    /// One past the last record.
    pub end: usize,
    /// With counting off: whether a record follows this page.
    pub more_pages: Option<bool>,
    /// With counting on: the number of pages.
    pub total_pages: Option<usize>,
}

/// dynamic-rest's answer to a page that does not exist.
fn invalid_page() -> ApiError {
    ApiError::detail(StatusCode::NOT_FOUND, "Invalid page.")
}

/// The page a request asks for, among `count` records.
///
/// `page` is read like dynamic-rest does: absent means 1, `last` the last
/// page; anything Python's `int()` refuses, a number below 1, or (when
/// counting) a page past the last is 404 `Invalid page.` (page 1 of an
/// empty list exists). `per_page` is DRF's positive int, cut to the
/// maximum; a bad one means the default. Counting is off when the request
/// has a non-empty `exclude_count` (any value: the server only tests the
/// text) or the dialect forces it; then pages are not checked against the
/// end and `more_pages` tells whether another record follows.
pub(crate) fn page_number(
    pairs: &[(String, String)],
    d: &Dialect,
    count: usize,
    first_page_only: bool,
) -> Result<Page, ApiError> {
    let per_page = page_size(pairs, "per_page", d);
    let exclude_count =
        d.force_exclude_count || last(pairs, "exclude_count").is_some_and(|v| !v.is_empty());
    let num_pages = if exclude_count {
        1
    } else {
        count.max(1).div_ceil(per_page)
    };
    let raw = if first_page_only {
        "1"
    } else {
        last(pairs, "page").unwrap_or("1")
    };
    let number: i128 = if raw == "last" {
        num_pages as i128
    } else {
        py_int(raw).ok_or_else(invalid_page)?
    };
    if number < 1 || (!exclude_count && number > num_pages as i128) {
        return Err(invalid_page());
    }
    let number = u64::try_from(number).map_err(|_| invalid_page())?;
    let start = usize::try_from(number - 1)
        .ok()
        .and_then(|n| n.checked_mul(per_page))
        .unwrap_or(usize::MAX)
        .min(count);
    if exclude_count {
        let end = start.saturating_add(per_page).min(count);
        Ok(Page {
            number,
            per_page,
            start,
            end,
            more_pages: Some(start.saturating_add(per_page) < count),
            total_pages: None,
        })
    } else {
        Ok(Page {
            number,
            per_page,
            start,
            end: start.saturating_add(per_page).min(count),
            more_pages: None,
            total_pages: Some(num_pages),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        super::super::query::parse_pairs(Some(q))
    }

    #[test]
    fn python_int() {
        assert_eq!(py_int(" 42 "), Some(42));
        assert_eq!(py_int("+7"), Some(7));
        assert_eq!(py_int("-3"), Some(-3));
        assert_eq!(py_int("1_000"), Some(1000));
        assert_eq!(py_int("007"), Some(7));
        for bad in ["", " ", "1.5", "abc", "_1", "1_", "1__0", "0x10", "--1"] {
            assert_eq!(py_int(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn limit_offset_like_drf() {
        let d = Dialect::docs();
        assert_eq!(limit_offset(&pairs("limit=abc&offset=-3"), &d), (20, 0));
        assert_eq!(limit_offset(&pairs("limit=1000&offset=7"), &d), (100, 7));
        assert_eq!(limit_offset(&pairs("limit=0"), &d), (20, 0));
        assert_eq!(limit_offset(&pairs("limit=5&limit=9"), &d), (9, 0));
        let d = Dialect::docs().page_size(7).max_page_size(None);
        assert_eq!(limit_offset(&pairs(""), &d), (7, 0));
        assert_eq!(limit_offset(&pairs("limit=1000"), &d), (1000, 0));
    }

    #[test]
    fn page_numbers_like_dynamic_rest() {
        let d = Dialect::dynamic_rest();
        let p = page_number(&pairs(""), &d, 250, false).expect("page 1");
        assert_eq!((p.number, p.per_page, p.start, p.end), (1, 20, 0, 20));
        assert_eq!(p.total_pages, Some(13));
        let p = page_number(&pairs("page=13"), &d, 250, false).expect("last page");
        assert_eq!((p.start, p.end), (240, 250));
        let p = page_number(&pairs("page=last&per_page=100"), &d, 250, false).expect("last");
        assert_eq!((p.number, p.start, p.end), (3, 200, 250));
        // limit / offset mean nothing here.
        let p = page_number(&pairs("limit=5&offset=40"), &d, 250, false).expect("page 1");
        assert_eq!((p.start, p.end), (0, 20));
        for bad in [
            "page=14", "page=0", "page=-1", "page=x", "page=", "page=1.0",
        ] {
            let e = page_number(&pairs(bad), &d, 250, false).unwrap_err();
            assert_eq!(e.status, StatusCode::NOT_FOUND, "{bad}");
            assert_eq!(e.body["detail"], "Invalid page.");
        }
        // Page 1 of nothing exists.
        let p = page_number(&pairs(""), &d, 0, false).expect("empty first page");
        assert_eq!((p.start, p.end, p.total_pages), (0, 0, Some(1)));
        // per_page: capped, and bad values mean the default.
        assert_eq!(
            page_number(&pairs("per_page=500"), &d, 9, false)
                .unwrap()
                .per_page,
            100
        );
        assert_eq!(
            page_number(&pairs("per_page=0"), &d, 9, false)
                .unwrap()
                .per_page,
            20
        );
        assert_eq!(
            page_number(&pairs("per_page=z"), &d, 9, false)
                .unwrap()
                .per_page,
            20
        );
        // Counting off: no end check, more_pages instead.
        let p = page_number(&pairs("page=99&exclude_count=1"), &d, 250, false).unwrap();
        assert_eq!((p.start, p.end, p.more_pages), (250, 250, Some(false)));
        let p = page_number(&pairs("page=12&exclude_count=0"), &d, 250, false).unwrap();
        assert_eq!((p.end, p.more_pages), (240, Some(true)));
        let p = page_number(&pairs("page=13&exclude_count=true"), &d, 260, false).unwrap();
        assert_eq!((p.end, p.more_pages), (260, Some(false)));
        let p = page_number(&pairs("page=2&exclude_count="), &d, 250, false).unwrap();
        assert_eq!(p.more_pages, None, "an empty exclude_count counts");
        let p = page_number(
            &pairs("page=last"),
            &Dialect::dynamic_rest_countless(),
            250,
            false,
        )
        .unwrap();
        assert_eq!((p.number, p.more_pages), (1, Some(true)));
        let e = page_number(&pairs("page=0&exclude_count=1"), &d, 250, false).unwrap_err();
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        // The ignore-offset knob pins page 1.
        let p = page_number(&pairs("page=3"), &d, 250, true).unwrap();
        assert_eq!(p.number, 1);
    }
}
