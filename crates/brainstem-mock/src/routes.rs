//! The URL table: axum's router matches each path to the handler of its
//! route, each route with or without its trailing slash:
//!
//! * `/api/{portal}/{app}/{model}/`, `.../{id}/` and `.../{id}/{sub}/`: the
//!   API, served by `dispatch.rs`;
//! * `/api/auth/device/` and `/api/auth/device/token/`: the device sign-in;
//! * `/account/authorize/`: its approval page.
//!
//! Every method of a route reaches its one handler, which answers by method
//! (an API route's `Allow` comes from the spec's operations). Any other
//! path, or one with an empty segment (`//`), is the JSON 404. Every
//! request, a 404 too, is counted and waits the latency knob before it is
//! answered. The work of answering (reading the store, filtering,
//! rendering) runs on tokio's blocking pool, never on the async workers,
//! so a costly query does not hold up other clients while its budget runs.
//!
//! The router decodes percent escapes in the parameters it hands over, but
//! the server compares segments as they were sent (`%73ession` names no
//! model, `%31` no record), so the escapes themselves are escaped before
//! routing ([`keep_escapes`]).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, OriginalUri, Path, Request, State};
use axum::http::uri::PathAndQuery;
use axum::http::{HeaderMap, Method, Response, StatusCode, Uri};
use axum::middleware;
use axum::routing::any;

use tower_http::compression::CompressionLayer;

use super::device;
use super::dispatch::{self, Route};
use super::network;
use super::reply::ApiError;
use super::request::Req;
use super::state::Shared;

/// The server: every route, the JSON 404 for other paths, behind
/// [`keep_escapes`]; then, outermost, compression and the bandwidth (so
/// the bytes paced are the compressed ones) when the settings ask for them.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let (compression, bandwidth) = (shared.settings.compression, shared.settings.bandwidth);
    let shared_bytes = shared.line_bytes.clone();
    let routes = [
        ("/api/{portal}/{app}/{model}", any(collection)),
        ("/api/{portal}/{app}/{model}/{id}", any(detail)),
        ("/api/{portal}/{app}/{model}/{id}/{sub}", any(sub)),
        ("/api/auth/device", any(device_start)),
        ("/api/auth/device/token", any(device_poll)),
        ("/account/authorize", any(authorize)),
    ];
    let app = routes
        .into_iter()
        .fold(Router::new(), |r, (path, handler)| {
            r.route(path, handler.clone())
                .route(&format!("{path}/"), handler)
        })
        .fallback(unknown)
        .with_state(shared);
    // A layer on `app` itself would run after routing; around a router
    // that only falls back to `app`, it runs before.
    let mut app = Router::new()
        .fallback_service(app)
        .layer(middleware::map_request(keep_escapes));
    if compression {
        app = app.layer(CompressionLayer::new());
    }
    if let Some(rate) = bandwidth {
        let link = network::Link::new(rate, shared_bytes);
        app = app.layer(middleware::from_fn_with_state(link, network::throttle));
    }
    app
}

/// Escape each `%` of the path as `%25`, so that the parameters the router
/// decodes are the segments exactly as sent. Handlers read the URI as sent
/// ([`OriginalUri`]).
async fn keep_escapes(mut req: Request) -> Request {
    let uri = req.uri();
    if uri.path().contains('%') {
        let path = uri.path().replace('%', "%25");
        let escaped = match uri.query() {
            Some(q) => format!("{path}?{q}"),
            None => path,
        };
        let mut parts = uri.clone().into_parts();
        if let Ok(pq) = PathAndQuery::try_from(escaped) {
            parts.path_and_query = Some(pq);
            if let Ok(u) = Uri::from_parts(parts) {
                *req.uri_mut() = u;
            }
        }
    }
    req
}

/// What every handler reads of a request: the method, the URI as sent, the
/// headers and the whole body (the body extractor's own rejections, such as
/// 413 for a body over axum's limit, come first, uncounted).
struct Call {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for Call {
    type Rejection = BytesRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let OriginalUri(uri) = match OriginalUri::from_request_parts(&mut parts, state).await {
            Ok(u) => u,
            Err(never) => match never {},
        };
        let method = parts.method.clone();
        let headers = parts.headers.clone();
        let body = Bytes::from_request(Request::from_parts(parts, body), state).await?;
        Ok(Call {
            method,
            uri,
            headers,
            body,
        })
    }
}

impl Call {
    /// Count the request, wait the latency knob, then answer with `serve`
    /// (an error as its JSON answer) on the blocking pool; a panic there is
    /// a JSON 500.
    async fn answer(
        self,
        st: Arc<Shared>,
        serve: impl FnOnce(&Shared, &Req<'_>) -> Result<Response<Body>, ApiError> + Send + 'static,
    ) -> Response<Body> {
        st.requests.fetch_add(1, Ordering::Relaxed);
        let latency = st.knobs().latency_ms;
        if latency > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
        }
        let work = tokio::task::spawn_blocking(move || {
            let req = Req {
                method: &self.method,
                uri: &self.uri,
                headers: &self.headers,
                body: &self.body,
            };
            serve(&st, &req).unwrap_or_else(ApiError::into_response)
        });
        work.await.unwrap_or_else(|_| {
            ApiError::detail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "A server error occurred.",
            )
            .into_response()
        })
    }
}

/// The path's parameters (404 if the router could not decode them, which
/// [`keep_escapes`] rules out).
fn params<T>(path: Result<Path<T>, PathRejection>) -> Result<T, ApiError> {
    path.map(|Path(p)| p).map_err(|_| ApiError::not_found())
}

/// 404 when a segment is empty: the router matches `/session//` with an
/// empty parameter, which names nothing.
fn nonempty(segments: &[&str]) -> Result<(), ApiError> {
    if segments.iter().any(|s| s.is_empty()) {
        return Err(ApiError::not_found());
    }
    Ok(())
}

type Three = (String, String, String);
type Four = (String, String, String, String);
type Five = (String, String, String, String, String);

/// `/api/{portal}/{app}/{model}/`.
async fn collection(
    State(st): State<Arc<Shared>>,
    path: Result<Path<Three>, PathRejection>,
    call: Call,
) -> Response<Body> {
    call.answer(st, move |st, req| {
        let (portal, app, model) = params(path)?;
        nonempty(&[&portal, &app, &model])?;
        dispatch::api(st, req, &portal, &app, &model, Route::Collection)
    })
    .await
}

/// `/api/{portal}/{app}/{model}/{id}/`.
async fn detail(
    State(st): State<Arc<Shared>>,
    path: Result<Path<Four>, PathRejection>,
    call: Call,
) -> Response<Body> {
    call.answer(st, move |st, req| {
        let (portal, app, model, id) = params(path)?;
        nonempty(&[&portal, &app, &model, &id])?;
        dispatch::api(st, req, &portal, &app, &model, Route::Detail(id))
    })
    .await
}

/// `/api/{portal}/{app}/{model}/{id}/{sub}/`.
async fn sub(
    State(st): State<Arc<Shared>>,
    path: Result<Path<Five>, PathRejection>,
    call: Call,
) -> Response<Body> {
    call.answer(st, move |st, req| {
        let (portal, app, model, id, sub) = params(path)?;
        nonempty(&[&portal, &app, &model, &id, &sub])?;
        dispatch::api(st, req, &portal, &app, &model, Route::Sub(id, sub))
    })
    .await
}

/// `/api/auth/device/`.
async fn device_start(State(st): State<Arc<Shared>>, call: Call) -> Response<Body> {
    call.answer(st, device::start).await
}

/// `/api/auth/device/token/`.
async fn device_poll(State(st): State<Arc<Shared>>, call: Call) -> Response<Body> {
    call.answer(st, device::poll).await
}

/// `/account/authorize/`.
async fn authorize(State(st): State<Arc<Shared>>, call: Call) -> Response<Body> {
    call.answer(st, device::authorize_page).await
}

/// Any other path.
async fn unknown(State(st): State<Arc<Shared>>, call: Call) -> Response<Body> {
    call.answer(st, |_, _| Err(ApiError::not_found())).await
}
