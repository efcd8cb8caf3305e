//! The pagination cursor: a pure state machine that turns what each list
//! response says into the next requests, or the end.
//!
//! It does no I/O and holds no records: the driver in `list.rs` sends what
//! [`Cursor::next_requests`] asks for, scans each answer's envelope into
//! [`Facts`] and a record count, and hands them to [`Cursor::observe`] in
//! request order. The cursor answers which of the answer's records belong to
//! the result (a slice) and whether the plan must be redone.
//!
//! Every answer is placed on the absolute record index line: a window
//! `[start, start + len)`. Where that window comes from depends on the style
//! the server pages in, recognised from the answer itself:
//!
//! * [`PageStyle::LimitOffset`]: the server honours `limit` / `offset`
//!   (BrainSTEM as documented: `count`, `next`); the window starts at the
//!   requested offset.
//! * [`PageStyle::PageNumber`]: dynamic-rest's own pagination reads `page` and
//!   `per_page` and ignores `limit` / `offset`; its `meta` says which page of
//!   which size it sent, so the window is `(page - 1) * per_page`.
//! * [`PageStyle::NextLink`]: only a `next` link whose parameters are neither
//!   of the above (a cursor token, say): it is followed as given, one page at
//!   a time, if it points at the same server.
//! * [`PageStyle::Unpaged`]: no metadata at all: `limit` / `offset` requests,
//!   and the list ends with an empty page or one shorter than an earlier one.
//!
//! Records are taken by position, so a window that overlaps records already
//! taken (a page-numbered server answering a request that was not page
//! aligned) gives each record exactly once. Nothing is planned from a total
//! the server claims beyond the next few pages (the prefetch window), so a
//! lying `count` costs nothing; pages that come back empty end the walk.

use std::collections::VecDeque;
use std::ops::Range;

/// How a server pages its lists, as recognised from its answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PageStyle {
    /// `limit` / `offset` honoured (`count` and `next`, as BrainSTEM documents).
    LimitOffset,
    /// dynamic-rest page numbers: `page` / `per_page` requested, `meta` answered.
    PageNumber,
    /// Only a `next` link, followed as given.
    NextLink,
    /// No pagination metadata at all.
    Unpaged,
}

impl PageStyle {
    /// A short name (`limit-offset`, `page-number`, `next-link`, `unpaged`).
    pub fn as_str(self) -> &'static str {
        match self {
            PageStyle::LimitOffset => "limit-offset",
            PageStyle::PageNumber => "page-number",
            PageStyle::NextLink => "next-link",
            PageStyle::Unpaged => "unpaged",
        }
    }
}

impl std::fmt::Display for PageStyle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One page request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PageReq {
    /// `limit=&offset=` (`limit: None`: the server's default page size).
    Offset { offset: u64, limit: Option<u32> },
    /// `page=&per_page=`.
    Number { page: u64, per_page: u32 },
    /// A `next` link of the server, as a path and query on the same origin.
    Link(String),
}

/// The pagination facts of one answer (besides its records).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Facts {
    /// `count`.
    pub count: Option<u64>,
    /// `next`: `None` without the key, `Some(None)` for `null`.
    pub next: Option<Option<String>>,
    /// `meta.page`.
    pub page: Option<u64>,
    /// `meta.per_page`.
    pub per_page: Option<u64>,
    /// `meta.total_results`.
    pub total_results: Option<u64>,
    /// `meta.total_pages`.
    pub total_pages: Option<u64>,
    /// `meta.more_pages`.
    pub more_pages: Option<bool>,
}

impl Facts {
    /// The total number of matching records, if the answer says.
    pub fn total(&self) -> Option<u64> {
        self.count.or(self.total_results)
    }
}

/// Why a walk cannot go on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CursorError {
    /// A limit/offset server sent the records of an earlier offset again.
    OffsetIgnored { offset: u64 },
    /// A `next` link to another server (not followed: it would get the token).
    ForeignLink { link: String },
    /// A page-numbered answer without a usable page size.
    NoPageSize,
    /// A `next` link the walk already followed (it would loop forever).
    RepeatedLink { link: String },
}

/// What to do with one answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Step {
    /// The records of the answer that belong to the result, in order.
    pub take: Range<usize>,
    /// The absolute index of the first taken record.
    pub offset: u64,
    /// Requests in flight were planned on wrong assumptions: drop them (and
    /// their answers) and ask [`Cursor::next_requests`] again.
    pub replan: bool,
}

/// What a walk is for.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Walk {
    /// The absolute index of the first record wanted.
    pub offset: u64,
    /// How many records (`None`: all of them).
    pub count: Option<u64>,
    /// The page size to request (`None`: the server's default).
    pub page_size: Option<u32>,
    /// The largest page size the server is asked for.
    pub max_page_size: u32,
    /// How many requests in flight, and whether that adapts.
    pub prefetch: super::window::Prefetch,
}

/// The pagination state machine.
#[derive(Debug)]
pub(crate) struct Cursor {
    walk: Walk,
    /// The most requests in flight now (the driver adapts it).
    window: usize,
    /// Absolute index of the next record to take.
    position: u64,
    /// Absolute index up to which requests have been planned.
    planned: u64,
    /// One past the last record wanted, once known.
    end: Option<u64>,
    style: Option<PageStyle>,
    /// The page size of a page-numbered server, as its first `meta` says.
    per_page: Option<u64>,
    /// The largest `per_page` the server grants, once it cut one down.
    cap: Option<u64>,
    /// The `next` link to follow (next-link style).
    link: Option<String>,
    /// Every `next` link followed so far (a server that sends one again
    /// would make the walk loop).
    followed: std::collections::HashSet<String>,
    in_flight: VecDeque<PageReq>,
    /// The largest page seen (unpaged style: a shorter one is the last).
    max_len: usize,
    /// The offset and first record of the previous limit/offset answer.
    prev_first: Option<(u64, u64)>,
    first_sent: bool,
    /// The server ignored `page` (so page numbers are out).
    refuted_numbers: bool,
    /// The server ignored `offset` (so limit/offset is out).
    refuted_offsets: bool,
    done: bool,
    /// The origin (`scheme://host:port`) `next` links must stay on.
    origin: String,
}

impl Cursor {
    /// A cursor for `walk` against the server at `origin`.
    pub fn new(walk: Walk, origin: &str) -> Cursor {
        let end = walk.count.map(|c| walk.offset.saturating_add(c));
        Cursor {
            position: walk.offset,
            planned: walk.offset,
            done: end == Some(walk.offset),
            end,
            window: walk.prefetch.start.max(1),
            walk,
            style: None,
            per_page: None,
            cap: None,
            link: None,
            followed: std::collections::HashSet::new(),
            in_flight: VecDeque::new(),
            max_len: 0,
            prev_first: None,
            first_sent: false,
            refuted_numbers: false,
            refuted_offsets: false,
            origin: origin.trim_end_matches('/').to_string(),
        }
    }

    /// The style recognised so far.
    pub fn style(&self) -> Option<PageStyle> {
        self.style
    }

    /// Keep at most `n` requests in flight from now on.
    pub fn set_window(&mut self, n: usize) {
        self.window = n.max(1);
    }

    /// Whether pages can be asked for before the previous answer says
    /// there is more: the end is unknown, but the page size is (a full page
    /// arrived, or the server's `per_page`). Pages asked past the end come
    /// back empty (or 404 by page number) and end the walk; a `next` link
    /// can only be followed once it is known.
    fn can_probe(&self) -> bool {
        match self.style {
            Some(PageStyle::PageNumber) => self.per_page.is_some_and(|p| p > 0),
            Some(PageStyle::LimitOffset | PageStyle::Unpaged) => self
                .walk
                .page_size
                .is_some_and(|s| self.max_len as u64 >= u64::from(s)),
            Some(PageStyle::NextLink) | None => false,
        }
    }

    /// Whether the walk is over.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Requests to send now, in order; empty when the walk is over or must
    /// wait for an answer first.
    pub fn next_requests(&mut self) -> Vec<PageReq> {
        let mut out = Vec::new();
        if self.done {
            return out;
        }
        if !self.first_sent {
            self.first_sent = true;
            let limit = self.limit_for(self.walk.offset);
            let req = PageReq::Offset {
                offset: self.walk.offset,
                limit,
            };
            self.planned = self
                .walk
                .offset
                .saturating_add(u64::from(limit.unwrap_or(0)));
            self.in_flight.push_back(req.clone());
            out.push(req);
            return out;
        }
        let Some(style) = self.style else {
            return out; // the first answer is not in yet
        };
        // Without a known end, one request at a time until the page size
        // is known: then pages are probed ahead within the window.
        let probe = self.end.is_none() && self.can_probe();
        let window = if self.end.is_some() || probe {
            self.window
        } else {
            1
        };
        while self.in_flight.len() < window {
            if self.end.is_some_and(|e| self.planned >= e) {
                break;
            }
            let req = match style {
                PageStyle::LimitOffset | PageStyle::Unpaged => {
                    let limit = self.limit_for(self.planned);
                    let req = PageReq::Offset {
                        offset: self.planned,
                        limit,
                    };
                    match limit {
                        Some(l) => self.planned = self.planned.saturating_add(u64::from(l)),
                        // the server's default size: one at a time
                        None => self.planned = u64::MAX,
                    }
                    req
                }
                PageStyle::PageNumber => {
                    let pp = self.page_size_for_numbers();
                    let page = self.planned / pp + 1;
                    self.planned = page.saturating_mul(pp);
                    PageReq::Number {
                        page,
                        per_page: u32::try_from(pp).unwrap_or(u32::MAX),
                    }
                }
                PageStyle::NextLink => match self.link.take() {
                    Some(l) => {
                        self.planned = u64::MAX;
                        PageReq::Link(l)
                    }
                    None => break,
                },
            };
            self.in_flight.push_back(req.clone());
            out.push(req);
            if self.end.is_none() && !probe {
                break;
            }
        }
        out
    }

    /// The `limit` for a limit/offset request at `at`.
    fn limit_for(&self, at: u64) -> Option<u32> {
        let size = self.walk.page_size?;
        Some(match self.end {
            Some(e) => {
                let left = e.saturating_sub(at).max(1);
                u32::try_from(left.min(u64::from(size))).unwrap_or(size)
            }
            None => size,
        })
    }

    /// The `per_page` to ask a page-numbered server for: the requested page
    /// size (or the server's own), and for a bounded window the size that
    /// covers it in the fewest pages.
    fn page_size_for_numbers(&self) -> u64 {
        let max = self
            .cap
            .unwrap_or(u64::from(self.walk.max_page_size))
            .max(1);
        let base = self
            .walk
            .page_size
            .map(u64::from)
            .or(self.per_page)
            .unwrap_or(max)
            .clamp(1, max);
        // a bounded window: the size that covers it in the fewest pages
        let Some(end) = self.walk.count.and(self.end) else {
            return base;
        };
        let from = self.planned;
        let pages = |pp: u64| end.div_ceil(pp) - from / pp;
        let mut best = base;
        let mut best_pages = pages(base);
        for pp in base..=max.min(base.saturating_add(1000)) {
            let n = pages(pp);
            if n < best_pages {
                best = pp;
                best_pages = n;
            }
        }
        best
    }

    /// An answer to the oldest request in flight: `len` records, the first
    /// of which has the fingerprint `first` (for spotting an ignored offset).
    pub fn observe(
        &mut self,
        facts: &Facts,
        len: usize,
        first: Option<u64>,
    ) -> Result<Step, CursorError> {
        let Some(req) = self.in_flight.pop_front() else {
            self.done = true;
            return Ok(Step {
                take: 0..0,
                offset: self.position,
                replan: false,
            });
        };
        let mut style = self.recognise(&req, facts, len)?;
        let mut replan = false;

        // an ignored offset: the same first record as the previous answer
        if matches!(style, PageStyle::LimitOffset | PageStyle::Unpaged)
            && let (Some(fp), PageReq::Offset { offset, .. }) = (first, &req)
        {
            if let Some((prev_offset, prev_fp)) = self.prev_first
                && prev_fp == fp
                && prev_offset != *offset
            {
                if facts.count.is_none()
                    && !self.refuted_numbers
                    && let (Some(_), Some(pp)) = (facts.page, facts.per_page)
                    && pp > 0
                {
                    // it pages by number after all (its first page looked
                    // like the limit/offset answer asked for)
                    style = PageStyle::PageNumber;
                    self.style = Some(style);
                    self.per_page = Some(pp);
                    self.refuted_offsets = true;
                    replan = true;
                } else {
                    self.done = true;
                    // a short page repeated: the server sent everything at once
                    if facts.total().is_none() && (self.max_len as u64) < self.requested(&req) {
                        return Ok(Step {
                            take: 0..0,
                            offset: self.position,
                            replan: false,
                        });
                    }
                    return Err(CursorError::OffsetIgnored { offset: *offset });
                }
            }
            self.prev_first = Some((*offset, fp));
        }
        // a page-numbered server that answers another page than asked
        // ignores `page`: its `meta` is informational, and limit/offset may
        // work (tried once); if they were refuted already, paging would loop
        if let (PageReq::Number { page, per_page }, Some(got)) = (&req, facts.page)
            && got != *page
        {
            if self.refuted_offsets {
                self.done = true;
                return Err(CursorError::OffsetIgnored {
                    offset: page.saturating_sub(1).saturating_mul(u64::from(*per_page)),
                });
            }
            self.refuted_numbers = true;
            style = PageStyle::LimitOffset;
            self.style = Some(style);
            self.in_flight.clear();
            self.planned = self.position;
            return Ok(Step {
                take: 0..0,
                offset: self.position,
                replan: true,
            });
        }
        let start = self.window_start(&req, facts, style)?;
        let len64 = len as u64;

        // the slice of this answer that is new and wanted
        let from = self.position.max(start);
        let to = start
            .saturating_add(len64)
            .min(self.end.unwrap_or(u64::MAX));
        if start > self.position {
            // a gap: the pages were smaller than planned (a capped per_page)
            let step = Step {
                take: 0..0,
                offset: self.position,
                replan: true,
            };
            self.planned = self.position;
            self.in_flight.clear();
            return Ok(step);
        }
        let take = if to > from {
            (from - start) as usize..(to - start) as usize
        } else {
            0..0
        };
        let offset = from;
        self.position = self.position.max(to.max(from));

        // what the answer says about the end
        if let Some(total) = facts.total() {
            let e = self.end.map_or(total, |e| e.min(total));
            self.end = Some(e);
        }
        if facts.more_pages == Some(false)
            || matches!(facts.next, Some(None))
            || (style == PageStyle::PageNumber
                && facts.total_results.is_none()
                && matches!((facts.page, facts.total_pages), (Some(p), Some(t)) if p >= t))
        {
            let e = start.saturating_add(len64);
            self.end = Some(self.end.map_or(e, |x| x.min(e)));
        }
        if len == 0 {
            // nothing more here, whatever a total claimed
            self.end = Some(self.position);
        }
        if style == PageStyle::Unpaged
            && len > 0
            && (len as u64) < self.requested(&req)
            && len < self.max_len
        {
            self.end = Some(self.position);
        }
        self.max_len = self.max_len.max(len);
        if style == PageStyle::NextLink {
            match &facts.next {
                Some(Some(link)) => {
                    let link = self.same_origin(link)?;
                    if !self.followed.insert(link.clone()) {
                        return Err(CursorError::RepeatedLink { link });
                    }
                    self.link = Some(link);
                }
                _ => self.end = Some(self.position),
            }
        }
        if let (PageReq::Number { per_page, .. }, Some(pp)) = (&req, facts.per_page)
            && pp < u64::from(*per_page)
        {
            // the server caps `per_page`: ask for no more from now on
            self.cap = Some(self.cap.map_or(pp, |c| c.min(pp)).max(1));
        }
        if self.end.is_some_and(|e| self.position >= e) {
            self.done = true;
            self.in_flight.clear();
            replan = false;
        } else if replan {
            self.in_flight.clear();
            self.planned = self.position;
        } else if self.in_flight.is_empty() || self.planned < self.position {
            // plan on from what actually arrived
            self.planned = self.position;
        }
        Ok(Step {
            take,
            offset,
            replan,
        })
    }

    /// How many records a request asked for (`u64::MAX`: the server's default).
    fn requested(&self, req: &PageReq) -> u64 {
        match req {
            PageReq::Offset { limit: Some(l), .. } => u64::from(*l),
            PageReq::Number { per_page, .. } => u64::from(*per_page),
            _ => u64::MAX,
        }
    }

    /// The style of the server, from its first answer (later answers keep it).
    fn recognise(
        &mut self,
        req: &PageReq,
        facts: &Facts,
        len: usize,
    ) -> Result<PageStyle, CursorError> {
        if let Some(s) = self.style {
            return Ok(s);
        }
        let style = if facts.count.is_some() {
            // `count` is BrainSTEM's limit/offset pagination (its `meta`, if
            // any, is informational); an ignored offset is caught later
            PageStyle::LimitOffset
        } else if let (Some(page), Some(pp)) = (facts.page, facts.per_page) {
            // dynamic-rest's page numbers, unless the page is exactly the
            // window asked for: then limit/offset may be honoured, which the
            // next answer tells (an ignored offset switches to page numbers)
            match req {
                PageReq::Offset { offset, limit }
                    if page.saturating_sub(1).saturating_mul(pp) == *offset
                        && limit.is_none_or(|l| u64::from(l) == pp) =>
                {
                    PageStyle::LimitOffset
                }
                _ => PageStyle::PageNumber,
            }
        } else if let Some(Some(link)) = &facts.next {
            let params = link_params(link);
            if params.iter().any(|(k, _)| k == "offset") {
                PageStyle::LimitOffset
            } else if params.iter().any(|(k, _)| k == "page") {
                PageStyle::PageNumber
            } else {
                self.link = Some(self.same_origin(link)?);
                PageStyle::NextLink
            }
        } else if facts.next.is_some() {
            // `next: null` on the first page: one page, whatever the style
            PageStyle::LimitOffset
        } else {
            PageStyle::Unpaged
        };
        if style == PageStyle::PageNumber {
            self.per_page = facts.per_page.or_else(|| {
                // a page link without meta: `per_page` from the link, else
                // the size of this first page
                facts
                    .next
                    .clone()
                    .flatten()
                    .and_then(|l| {
                        link_params(&l)
                            .into_iter()
                            .find(|(k, _)| k == "per_page" || k == "page_size")
                            .and_then(|(_, v)| v.parse().ok())
                    })
                    .or((len > 0).then_some(len as u64))
            });
            if self.per_page.is_none_or(|p| p == 0) && len > 0 {
                return Err(CursorError::NoPageSize);
            }
        }
        self.style = Some(style);
        Ok(style)
    }

    /// Where an answer's records sit on the absolute index line.
    fn window_start(
        &self,
        req: &PageReq,
        facts: &Facts,
        style: PageStyle,
    ) -> Result<u64, CursorError> {
        Ok(match (style, req) {
            (PageStyle::PageNumber, _) => {
                let page = facts.page.or(match req {
                    PageReq::Number { page, .. } => Some(*page),
                    _ => None,
                });
                let pp = facts.per_page.or(self.per_page).or(match req {
                    PageReq::Number { per_page, .. } => Some(u64::from(*per_page)),
                    _ => None,
                });
                match (page, pp) {
                    (Some(p), Some(pp)) => p.saturating_sub(1).saturating_mul(pp),
                    // the first answer of a page-numbered server without meta:
                    // page 1
                    (None, _) if matches!(req, PageReq::Offset { .. }) => 0,
                    _ => return Err(CursorError::NoPageSize),
                }
            }
            (_, PageReq::Offset { offset, .. }) => *offset,
            _ => self.position,
        })
    }

    /// A `next` link as a path and query on our origin.
    fn same_origin(&self, link: &str) -> Result<String, CursorError> {
        if link.starts_with('/') && !link.starts_with("//") {
            return Ok(link.to_string());
        }
        match link.strip_prefix(self.origin.as_str()) {
            Some(rest) if rest.starts_with('/') => Ok(rest.to_string()),
            _ => Err(CursorError::ForeignLink {
                link: link.to_string(),
            }),
        }
    }
}

/// The query parameters of a link, decoded.
pub(crate) fn link_params(link: &str) -> Vec<(String, String)> {
    let Some((_, q)) = link.split_once('?') else {
        return Vec::new();
    };
    let q = q.split('#').next().unwrap_or("");
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let s = s.replace('+', " ");
    percent_encoding::percent_decode_str(&s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A simulated server: `n` records, answering in one style.
    #[derive(Clone, Copy)]
    enum Sim {
        /// limit/offset with count and next (cap: the largest page it sends).
        Docs { cap: u64 },
        /// dynamic-rest page numbers (default and maximum page size).
        Pages {
            default: u64,
            max: u64,
            countless: bool,
        },
        /// limit/offset without any metadata.
        Bare,
        /// only next links with an opaque cursor.
        Links { size: u64 },
        /// limit/offset, but offset ignored.
        IgnoresOffset,
    }

    fn answer(sim: Sim, n: u64, req: &PageReq) -> (Facts, Range<u64>) {
        match sim {
            Sim::Docs { cap } => {
                let PageReq::Offset { offset, limit } = req else {
                    panic!("docs server got {req:?}")
                };
                let l = u64::from(limit.unwrap_or(20)).min(cap);
                let r = (*offset).min(n)..(offset + l).min(n);
                let facts = Facts {
                    count: Some(n),
                    next: Some((r.end < n).then(|| format!("/x/?limit={l}&offset={}", r.end))),
                    ..Facts::default()
                };
                (facts, r)
            }
            Sim::Pages {
                default,
                max,
                countless,
            } => {
                let (page, pp) = match req {
                    PageReq::Number { page, per_page } => (*page, u64::from(*per_page).min(max)),
                    PageReq::Offset { .. } => (1, default),
                    PageReq::Link(_) => panic!("no links"),
                };
                let r = ((page - 1) * pp).min(n)..(page * pp).min(n);
                let mut facts = Facts {
                    page: Some(page),
                    per_page: Some(pp),
                    ..Facts::default()
                };
                if countless {
                    facts.more_pages = Some(page * pp < n);
                } else {
                    facts.total_results = Some(n);
                    facts.total_pages = Some(n.div_ceil(pp));
                }
                (facts, r)
            }
            Sim::Bare => {
                let PageReq::Offset { offset, limit } = req else {
                    panic!()
                };
                let l = u64::from(limit.unwrap_or(100));
                ((Facts::default()), (*offset).min(n)..(offset + l).min(n))
            }
            Sim::Links { size } => {
                let start = match req {
                    PageReq::Offset { .. } => 0,
                    PageReq::Link(l) => l.rsplit('=').next().unwrap().parse().unwrap(),
                    _ => panic!(),
                };
                let r = start.min(n)..(start + size).min(n);
                let next = (r.end < n).then(|| format!("http://srv:1/api/x/?cursor={}", r.end));
                (
                    Facts {
                        next: Some(next),
                        ..Facts::default()
                    },
                    r,
                )
            }
            Sim::IgnoresOffset => {
                let PageReq::Offset { limit, .. } = req else {
                    panic!()
                };
                let l = u64::from(limit.unwrap_or(100));
                (
                    Facts {
                        count: Some(n),
                        ..Facts::default()
                    },
                    0..l.min(n),
                )
            }
        }
    }

    /// Run a walk against a simulated server, answering requests in order
    /// but only after `prefetch` are in flight; returns the records taken
    /// and the number of requests sent.
    fn run(sim: Sim, n: u64, walk: Walk) -> Result<(Vec<u64>, usize), CursorError> {
        let starts_past_end = walk.offset >= n;
        let mut c = Cursor::new(walk, "http://srv:1");
        let mut queue: VecDeque<PageReq> = VecDeque::new();
        let mut out = Vec::new();
        let mut sent = 0;
        for _ in 0..10_000 {
            let new = c.next_requests();
            sent += new.len();
            queue.extend(new);
            let Some(req) = queue.pop_front() else {
                assert!(c.is_done(), "nothing in flight but not done");
                return Ok((out, sent));
            };
            let (facts, r) = answer(sim, n, &req);
            if sent > 1
                && r.is_empty()
                && !starts_past_end
                && !matches!(sim, Sim::Bare | Sim::IgnoresOffset)
            {
                // a server that says where the list ends is never asked past it
                // (the first request may start past it: the caller chose that)
                panic!("{} was asked past the end: {req:?}", name(sim));
            }
            let records: Vec<u64> = r.collect();
            let step = c.observe(&facts, records.len(), records.first().copied())?;
            out.extend_from_slice(&records[step.take.clone()]);
            if step.replan {
                queue.clear();
            }
            if c.is_done() {
                // nothing is requested once the end is known
                assert!(c.next_requests().is_empty());
                return Ok((out, sent));
            }
        }
        panic!("the walk did not end");
    }

    fn all(offset: u64, size: u32, prefetch: usize) -> Walk {
        Walk {
            offset,
            count: None,
            page_size: Some(size),
            max_page_size: 100,
            prefetch: super::super::window::Prefetch::fixed(prefetch),
        }
    }

    fn window(offset: u64, count: u64) -> Walk {
        Walk {
            offset,
            count: Some(count),
            page_size: Some(u32::try_from(count.min(100)).unwrap()),
            max_page_size: 100,
            prefetch: super::super::window::Prefetch::fixed(1),
        }
    }

    const SIMS: &[Sim] = &[
        Sim::Docs { cap: 100 },
        Sim::Docs { cap: 10 },
        Sim::Pages {
            default: 20,
            max: 100,
            countless: false,
        },
        Sim::Pages {
            default: 20,
            max: 100,
            countless: true,
        },
        Sim::Pages {
            default: 20,
            max: 15,
            countless: false,
        },
        Sim::Pages {
            default: 100,
            max: 100,
            countless: false,
        },
        Sim::Pages {
            default: 100,
            max: 100,
            countless: true,
        },
        Sim::Bare,
        Sim::Links { size: 9 },
    ];

    #[test]
    fn every_style_every_size_gives_each_record_once() {
        for &sim in SIMS {
            for n in [0u64, 1, 7, 99, 100, 101, 250] {
                for size in [7u32, 13, 20, 33, 100] {
                    for prefetch in [1usize, 4] {
                        for offset in [0u64, 5, 240] {
                            if matches!(sim, Sim::Links { .. }) && offset > 0 {
                                continue; // a cursor link cannot start at an offset
                            }
                            let (got, _) = run(sim, n, all(offset, size, prefetch)).unwrap();
                            let want: Vec<u64> = (offset.min(n)..n).collect();
                            assert_eq!(
                                got,
                                want,
                                "{} n={n} size={size} prefetch={prefetch} offset={offset}",
                                name(sim)
                            );
                        }
                    }
                }
            }
        }
    }

    fn name(sim: Sim) -> String {
        match sim {
            Sim::Docs { cap } => format!("docs(cap {cap})"),
            Sim::Pages {
                default,
                max,
                countless,
            } => format!("pages(default {default}, max {max}, countless {countless})"),
            Sim::Bare => "bare".into(),
            Sim::Links { size } => format!("links({size})"),
            Sim::IgnoresOffset => "ignores-offset".into(),
        }
    }

    #[test]
    fn windows_are_exact_in_every_style() {
        for &sim in SIMS {
            if matches!(sim, Sim::Links { .. }) {
                continue;
            }
            for (offset, count) in [(13u64, 7u64), (240, 4), (0, 1), (95, 10), (3, 100), (19, 2)] {
                let n = 250;
                let (got, _) = run(sim, n, window(offset, count)).unwrap();
                let want: Vec<u64> = (offset..(offset + count).min(n)).collect();
                assert_eq!(got, want, "{} offset={offset} count={count}", name(sim));
            }
        }
    }

    #[test]
    fn a_page_numbered_window_takes_few_requests() {
        let sim = Sim::Pages {
            default: 20,
            max: 100,
            countless: false,
        };
        // records 13..20 lie in the default first page: one request
        let (_, sent) = run(sim, 250, window(13, 7)).unwrap();
        assert_eq!(sent, 1);
        // records 240..244: the first answer is page 1, then one aligned page
        let (got, sent) = run(sim, 250, window(240, 4)).unwrap();
        assert_eq!(got, vec![240, 241, 242, 243]);
        assert_eq!(sent, 2);
    }

    #[test]
    fn the_first_answer_names_the_style() {
        let mut c = Cursor::new(all(0, 7, 4), "http://srv:1");
        let reqs = c.next_requests();
        assert_eq!(
            reqs,
            vec![PageReq::Offset {
                offset: 0,
                limit: Some(7)
            }]
        );
        // nothing more until the first answer is in
        assert!(c.next_requests().is_empty());
        let facts = Facts {
            page: Some(1),
            per_page: Some(20),
            total_results: Some(250),
            total_pages: Some(13),
            ..Facts::default()
        };
        let step = c.observe(&facts, 20, Some(0)).unwrap();
        assert_eq!(step.take, 0..20);
        assert_eq!(c.style(), Some(PageStyle::PageNumber));
        let reqs = c.next_requests();
        assert_eq!(
            reqs,
            vec![
                PageReq::Number {
                    page: 3,
                    per_page: 7
                },
                PageReq::Number {
                    page: 4,
                    per_page: 7
                },
                PageReq::Number {
                    page: 5,
                    per_page: 7
                },
                PageReq::Number {
                    page: 6,
                    per_page: 7
                },
            ]
        );
    }

    #[test]
    fn docs_meta_with_count_stays_limit_offset() {
        let mut c = Cursor::new(all(0, 7, 2), "http://srv:1");
        c.next_requests();
        let facts = Facts {
            count: Some(30),
            next: Some(Some("/x/?limit=7&offset=7".into())),
            page: Some(1),
            per_page: Some(7),
            total_results: Some(30),
            total_pages: Some(5),
            ..Facts::default()
        };
        c.observe(&facts, 7, Some(0)).unwrap();
        assert_eq!(c.style(), Some(PageStyle::LimitOffset));
        assert_eq!(
            c.next_requests(),
            vec![
                PageReq::Offset {
                    offset: 7,
                    limit: Some(7)
                },
                PageReq::Offset {
                    offset: 14,
                    limit: Some(7)
                }
            ]
        );
    }

    #[test]
    fn an_ignored_offset_is_an_error_not_a_loop() {
        let err = run(Sim::IgnoresOffset, 250, all(0, 10, 1)).unwrap_err();
        assert_eq!(err, CursorError::OffsetIgnored { offset: 10 });
    }

    #[test]
    fn a_lying_count_plans_only_the_prefetch_window() {
        let mut c = Cursor::new(all(0, 100, 4), "http://srv:1");
        c.next_requests();
        let facts = Facts {
            count: Some(1_000_000_000_000_000),
            ..Facts::default()
        };
        c.observe(&facts, 100, Some(0)).unwrap();
        assert_eq!(c.next_requests().len(), 4);
        assert!(c.next_requests().is_empty());
        // the pages after the real end come back empty: the walk ends
        for (i, len) in [100usize, 0, 0, 0].into_iter().enumerate() {
            let step = c.observe(&facts, len, Some(100 + i as u64)).unwrap();
            assert!(step.take.len() == len);
            if c.is_done() {
                break;
            }
        }
        assert!(c.is_done());
        assert!(c.next_requests().is_empty());
    }

    #[test]
    fn a_foreign_next_link_is_refused() {
        let mut c = Cursor::new(all(0, 10, 1), "http://srv:1");
        c.next_requests();
        let facts = Facts {
            next: Some(Some("http://evil:2/api/?cursor=abc".into())),
            ..Facts::default()
        };
        assert_eq!(
            c.observe(&facts, 10, Some(0)),
            Err(CursorError::ForeignLink {
                link: "http://evil:2/api/?cursor=abc".into()
            })
        );
    }

    #[test]
    fn a_next_link_that_repeats_is_refused() {
        let mut c = Cursor::new(all(0, 10, 1), "http://srv:1");
        let facts = Facts {
            next: Some(Some("http://srv:1/api/?cursor=abc".into())),
            ..Facts::default()
        };
        c.next_requests();
        assert!(c.observe(&facts, 10, Some(0)).is_ok());
        assert_eq!(c.next_requests().len(), 1);
        assert_eq!(
            c.observe(&facts, 10, Some(1)),
            Err(CursorError::RepeatedLink {
                link: "/api/?cursor=abc".into()
            })
        );
    }

    #[test]
    fn a_short_page_without_metadata_may_be_a_cap() {
        // the server sends at most 10 whatever the limit: it is confirmed
        // with one more request, not taken as the end
        let (got, _) = run(Sim::Docs { cap: 10 }, 35, all(0, 100, 1)).unwrap();
        assert_eq!(got.len(), 35);
        let (got, _) = run(Sim::Bare, 35, all(0, 10, 1)).unwrap();
        assert_eq!(got.len(), 35);
    }

    #[test]
    fn an_empty_window_sends_nothing() {
        let mut c = Cursor::new(window(5, 0), "http://srv:1");
        assert!(c.is_done());
        assert!(c.next_requests().is_empty());
    }

    #[test]
    fn link_params_decode() {
        assert_eq!(
            link_params("http://h/x/?a%5B%5D=b+c&page=2#f"),
            vec![("a[]".into(), "b c".into()), ("page".into(), "2".into())]
        );
    }
}
