//! Authentication: the `Authorization` header to the [`Principal`] it
//! names, with DRF's 401 answers for a malformed header or an unknown
//! token. Whether an anonymous or read-only caller may go on depends on the
//! operation, and is decided in `dispatch.rs`.

use axum::http::{HeaderMap, StatusCode, header};

use super::access::{self, Principal};
use super::reply::ApiError;
use super::store::Store;

/// The caller the `Authorization` header names: `None` without the header
/// or with a scheme other than `Bearer` / `Token` (either case); 401 with a
/// challenge when the header is malformed or the token unknown.
pub(crate) fn authenticate(
    store: &Store,
    headers: &HeaderMap,
) -> Result<Option<Principal>, ApiError> {
    let Some(h) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let h = h.to_str().map_err(|_| ApiError::bad_token())?;
    let mut parts = h.split_whitespace();
    let scheme = parts.next().unwrap_or("");
    if !(scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token")) {
        return Ok(None);
    }
    let Some(token) = parts.next() else {
        return Err(ApiError {
            challenge: true,
            ..ApiError::detail(
                StatusCode::UNAUTHORIZED,
                "Invalid token header. No credentials provided.",
            )
        });
    };
    if parts.next().is_some() {
        return Err(ApiError {
            challenge: true,
            ..ApiError::detail(
                StatusCode::UNAUTHORIZED,
                "Invalid token header. Token string should not contain spaces.",
            )
        });
    }
    let grant = store.tokens.get(token).ok_or_else(ApiError::bad_token)?;
    Ok(Some(access::principal(store, grant.user, grant.read_only)))
}
