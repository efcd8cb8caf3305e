//! Pagination against servers that describe their lists in every way the
//! official clients disagree about, and against misbehaving ones.

use crate::client_support;

use std::collections::HashSet;
use std::time::Duration;

use brainstem::client::Error;
use brainstem::types::Session;
use client_support::*;
use futures::StreamExt;
use serde_json::json;

fn assert_complete(records: &[Session], total: usize) {
    assert_eq!(records.len(), total, "every record exactly once");
    let ids: HashSet<String> = records.iter().map(|s| s.id.to_string()).collect();
    assert_eq!(ids.len(), total, "no duplicates");
    for (i, s) in records.iter().enumerate() {
        assert_eq!(s.id.to_string(), sid(i), "server order kept at {i}");
    }
}

async fn all_with(
    p: Paging,
    concurrency: usize,
    limit: Option<u32>,
) -> (Result<Vec<Session>, Error>, usize) {
    let srv = TestServer::start(move |hit, _| paging_reply(p, hit)).await;
    let client = client_for(&srv.url);
    let mut req = client.sessions().list().concurrency(concurrency);
    if let Some(l) = limit {
        req = req.limit(l);
    }
    let res = req.all().await.map(|r| {
        assert!(r.undecoded.is_empty(), "{:?}", r.undecoded);
        r.into_vec()
    });
    (res, srv.count())
}

#[tokio::test]
async fn every_kind_of_metadata_sequential_and_concurrent() {
    for meta in [Meta::Count, Meta::Next, Meta::TotalResults, Meta::None] {
        for total in [0usize, 1, 99, 100, 101, 250] {
            for concurrency in [1usize, 4] {
                for sideload in [false, true] {
                    let mut p = Paging::new(total, meta);
                    p.sideload = sideload;
                    let (res, _) = all_with(p, concurrency, None).await;
                    let records = res.unwrap_or_else(|e| {
                        panic!("{meta:?} total {total} conc {concurrency} sideload {sideload}: {e}")
                    });
                    assert_complete(&records, total);
                }
            }
        }
    }
}

#[tokio::test]
async fn request_counts_are_minimal_when_metadata_allows() {
    // 250 records, pages of 100: 3 requests with a total or `next`.
    for meta in [Meta::Count, Meta::Next, Meta::TotalResults] {
        let (res, n) = all_with(Paging::new(250, meta), 1, None).await;
        assert_complete(&res.unwrap(), 250);
        assert_eq!(n, 3, "{meta:?}");
    }
    // Without metadata the last (short) page ends it.
    let (res, n) = all_with(Paging::new(250, Meta::None), 1, None).await;
    assert_complete(&res.unwrap(), 250);
    assert_eq!(n, 3);
}

#[tokio::test]
async fn silently_capped_page_size_loses_nothing() {
    for meta in [Meta::Count, Meta::Next, Meta::TotalResults, Meta::None] {
        for concurrency in [1usize, 3] {
            let mut p = Paging::new(95, meta);
            p.cap = 20;
            let (res, _) = all_with(p, concurrency, Some(100)).await;
            assert_complete(&res.unwrap_or_else(|e| panic!("{meta:?}: {e}")), 95);
        }
    }
}

#[tokio::test]
async fn offset_ignoring_server_is_detected() {
    for meta in [Meta::Count, Meta::Next, Meta::TotalResults, Meta::None] {
        for concurrency in [1usize, 4] {
            let mut p = Paging::new(250, meta);
            p.ignore_offset = true;
            let (res, n) = all_with(p, concurrency, None).await;
            match res {
                Err(Error::OffsetIgnored { offset }) => assert_eq!(offset, 100, "{meta:?}"),
                other => panic!(
                    "{meta:?}: expected OffsetIgnored, got {:?}",
                    other.map(|v| v.len())
                ),
            }
            // stopped early: with `meta` page numbers the server may page by
            // number after all, which is tried once before giving up
            // (without a total, pages are probed ahead within the window)
            let bound = if meta == Meta::TotalResults { 5 } else { 3 } + concurrency - 1;
            assert!(n <= bound, "{meta:?} stopped early ({n} requests)");
            let msg = Error::OffsetIgnored { offset: 100 }.to_string();
            assert!(msg.contains("offset=100"), "{msg}");
        }
    }
}

#[tokio::test]
async fn offset_ignoring_server_with_everything_on_one_short_page_is_fine() {
    let mut p = Paging::new(7, Meta::None);
    p.ignore_offset = true;
    let (res, n) = all_with(p, 1, None).await;
    assert_complete(&res.unwrap(), 7);
    assert_eq!(n, 2, "one confirming request");
}

#[tokio::test]
async fn concurrent_prefetch_keeps_order_and_bounds_in_flight() {
    // Later pages answer faster, so completion order differs from page order.
    let p = Paging::new(1000, Meta::Count);
    let srv = TestServer::start(move |hit, _| {
        let offset: u64 = hit
            .param("offset")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let delay = Duration::from_millis(40u64.saturating_sub(offset / 30));
        Reply::Delayed(delay, Box::new(paging_reply(p, hit)))
    })
    .await;
    let client = client_for(&srv.url);
    let records = client
        .sessions()
        .list()
        .concurrency(3)
        .all()
        .await
        .unwrap()
        .into_vec();
    assert_complete(&records, 1000);
    assert_eq!(srv.count(), 10);
    assert!(
        srv.max_in_flight() <= 3,
        "in flight: {}",
        srv.max_in_flight()
    );
    assert!(
        srv.max_in_flight() >= 2,
        "it did prefetch: {}",
        srv.max_in_flight()
    );
}

#[tokio::test]
async fn stream_yields_in_order_and_stops_fetching_when_dropped() {
    for fixed in [Some(1), None] {
        let p = Paging::new(1000, Meta::Next);
        let srv = TestServer::start(move |hit, _| paging_reply(p, hit)).await;
        let client = client_for(&srv.url);
        let mut list = client.sessions().list().limit(10);
        if let Some(n) = fixed {
            list = list.concurrency(n);
        }
        let first: Vec<Session> = list.stream().take(25).map(|r| r.unwrap()).collect().await;
        assert_eq!(first.len(), 25);
        for (i, s) in first.iter().enumerate() {
            assert_eq!(s.id.to_string(), sid(i));
        }
        // (requests already on their way when the stream was dropped may
        // still arrive)
        tokio::time::sleep(Duration::from_millis(100)).await;
        let sent = srv.count();
        // the three pages needed, and what the window read ahead: one page
        // while the third decoded when sequential, at most the largest
        // window when probing ahead
        let bound = match fixed {
            Some(_) => 4,
            None => 3 + brainstem::client::MAX_IN_FLIGHT,
        };
        assert!(sent <= bound, "only the pages needed: {sent}");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            srv.count(),
            sent,
            "nothing is sent once the stream is dropped"
        );
    }
}

/// A server where every page takes `ms` (a round trip), with `meta` paging.
async fn slow_server(total: usize, meta: Meta, ms: u64) -> TestServer {
    let p = Paging::new(total, meta);
    TestServer::start(move |hit, _| {
        Reply::Delayed(Duration::from_millis(ms), Box::new(paging_reply(p, hit)))
    })
    .await
}

#[tokio::test]
async fn without_a_total_pages_are_probed_ahead() {
    // `next` links with offsets, or no metadata at all: once a full page
    // shows the size, the next pages are asked for before the answers say
    // they exist; the pages past the end come back empty and end the walk.
    for meta in [Meta::Next, Meta::None] {
        let srv = slow_server(1000, meta, 20).await;
        let records = client_for(&srv.url)
            .sessions()
            .list()
            .limit(50)
            .all()
            .await
            .unwrap()
            .into_vec();
        assert_complete(&records, 1000);
        assert!(
            srv.max_in_flight() >= 2,
            "{meta:?}: {}",
            srv.max_in_flight()
        );
        assert!(
            srv.count() <= 21 + brainstem::client::MAX_IN_FLIGHT,
            "{}",
            srv.count()
        );
    }
}

#[tokio::test]
async fn the_window_opens_at_the_cap_on_a_slow_link_and_stays() {
    // Every page costs a round trip whatever else is in flight: the full
    // window fetches far faster than the first page did alone, so it stays
    // at the cap, never past it.
    let srv = slow_server(3000, Meta::Count, 30).await;
    let records = client_for(&srv.url)
        .sessions()
        .list()
        .limit(25)
        .all()
        .await
        .unwrap()
        .into_vec();
    assert_complete(&records, 3000);
    let most = srv.max_in_flight();
    assert!(
        most == brainstem::client::MAX_IN_FLIGHT,
        "in flight at most {most}"
    );
}

#[tokio::test]
async fn a_429_halves_the_window_and_stops_its_growth() {
    let p = Paging::new(1000, Meta::Count);
    let srv = TestServer::start(move |hit, n| {
        if n == 0 {
            return Reply::empty(429).with_header("retry-after", "0");
        }
        Reply::Delayed(Duration::from_millis(20), Box::new(paging_reply(p, hit)))
    })
    .await;
    let records = client_for(&srv.url)
        .sessions()
        .list()
        .limit(25)
        .all()
        .await
        .unwrap()
        .into_vec();
    assert_complete(&records, 1000);
    // the opening window halved when the first page arrived, and it did
    // not grow again
    assert_eq!(
        srv.max_in_flight(),
        brainstem::client::DEFAULT_CONCURRENCY / 2
    );
}

#[tokio::test]
async fn page_reports_the_facts() {
    let p = Paging::new(250, Meta::Count);
    let srv = TestServer::start(move |hit, _| paging_reply(p, hit)).await;
    let client = client_for(&srv.url);
    let page = client
        .sessions()
        .list()
        .limit(50)
        .offset(200)
        .page()
        .await
        .unwrap();
    assert_eq!(page.records.len(), 50);
    assert_eq!(page.count, Some(250));
    assert_eq!(page.total(), Some(250));
    assert_eq!(page.offset, 200);
    assert_eq!(page.has_more(), Some(false));
    let hit = &srv.hits()[0];
    assert_eq!(hit.param("limit").as_deref(), Some("50"));
    assert_eq!(hit.param("offset").as_deref(), Some("200"));
    assert_eq!(hit.path, "/api/private/stem/session/");

    let p = Paging::new(250, Meta::TotalResults);
    let srv = TestServer::start(move |hit, _| paging_reply(p, hit)).await;
    let page = client_for(&srv.url).sessions().list().page().await.unwrap();
    assert_eq!(page.records.len(), 20, "server default page size");
    assert_eq!(page.total(), Some(250));
    assert_eq!(page.has_more(), Some(true));

    let p = Paging::new(30, Meta::Next);
    let srv = TestServer::start(move |hit, _| paging_reply(p, hit)).await;
    let page = client_for(&srv.url)
        .sessions()
        .list()
        .limit(10)
        .page()
        .await
        .unwrap();
    assert!(page.next.is_some());
    assert_eq!(page.has_more(), Some(true));
    assert_eq!(page.total(), None);
}

#[tokio::test]
async fn records_shifted_by_an_insert_are_not_repeated() {
    // Between page 1 and 2 a record is inserted before them: page 2 starts
    // with the last record of page 1.
    let srv = TestServer::start(|hit, _| {
        let offset: usize = hit
            .param("offset")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let ids: Vec<usize> = if offset == 0 {
            (0..10).collect()
        } else {
            (9..15).collect()
        };
        Reply::json(
            200,
            json!({"sessions": ids.into_iter().map(session_json).collect::<Vec<_>>()}),
        )
    })
    .await;
    let records = client_for(&srv.url)
        .sessions()
        .list()
        .limit(10)
        .all()
        .await
        .unwrap()
        .into_vec();
    assert_complete(&records, 15);
}

#[tokio::test]
async fn the_records_key_comes_from_the_spec_not_the_first_list() {
    // The Python tool takes the first list in the body and would read
    // `projects` here.
    let mut p = Paging::new(5, Meta::Count);
    p.sideload = true;
    let (res, _) = all_with(p, 1, None).await;
    assert_complete(&res.unwrap(), 5);

    let srv = TestServer::start(|_, _| Reply::json(200, json!({"projects": [], "count": 0}))).await;
    let err = client_for(&srv.url)
        .sessions()
        .list()
        .all()
        .await
        .unwrap_err();
    match err {
        Error::Decode(d) => {
            assert!(d.message.contains("`sessions`"), "{d}");
            assert!(d.message.contains("projects"), "{d}");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_bad_record_names_its_path() {
    let srv = TestServer::start(|_, _| {
        let mut bad = session_json(1);
        bad["date_time"] = json!("yesterday");
        Reply::json(200, json!({"sessions": [session_json(0), bad], "count": 2}))
    })
    .await;
    // by default the bad record is kept raw and the page goes on
    let all = client_for(&srv.url).sessions().list().all().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all.undecoded.len(), 1);
    let u = &all.undecoded[0];
    assert_eq!(u.error.path, "sessions[1].date_time", "{}", u.error);
    assert_eq!(u.index, 1);
    assert_eq!(u.id.as_deref(), Some(sid(1).as_str()));
    assert_eq!(u.json().unwrap()["date_time"], "yesterday");
    // a stream yields it as an error item and goes on
    let items: Vec<_> = client_for(&srv.url)
        .sessions()
        .list()
        .stream()
        .collect()
        .await;
    assert_eq!(items.len(), 2);
    assert!(matches!(&items[1], Err(Error::UndecodedRecord(u)) if u.index == 1));
    // strict: it fails the call
    match client_for(&srv.url)
        .sessions()
        .list()
        .strict()
        .all()
        .await
        .unwrap_err()
    {
        Error::UndecodedRecord(u) => assert_eq!(u.error.path, "sessions[1].date_time"),
        other => panic!("{other:?}"),
    }
}

#[cfg(feature = "blocking")]
#[tokio::test]
async fn blocking_iter_and_all_share_the_pagination() {
    let p = Paging::new(230, Meta::None);
    let srv = TestServer::start(move |hit, _| paging_reply(p, hit)).await;
    let url = srv.url.clone();
    let (all, iterated) = tokio::task::spawn_blocking(move || {
        let client = brainstem::client::blocking::Client::from_async(client_for(&url)).unwrap();
        let all = client.sessions().list().limit(50).all().unwrap();
        let iterated: Vec<Session> = client
            .sessions()
            .list()
            .iter()
            .map(|r| r.unwrap())
            .collect();
        (all, iterated)
    })
    .await
    .unwrap();
    assert_complete(&all, 230);
    assert_complete(&iterated, 230);
}

#[cfg(feature = "blocking")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_inside_a_runtime_works_without_panicking() {
    let p = Paging::new(3, Meta::Count);
    let srv = TestServer::start(move |hit, _| paging_reply(p, hit)).await;
    let client = brainstem::client::blocking::Client::from_async(client_for(&srv.url)).unwrap();
    let all = client.sessions().list().all().unwrap();
    assert_complete(&all, 3);
    // Dropping the blocking client here must not panic either.
    drop(client);
}
