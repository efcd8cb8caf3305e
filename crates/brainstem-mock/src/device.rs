//! The device-authorization sign-in (`/api/auth/device/`), and a small
//! approval page at the verification URL so a person can approve a code
//! in a browser.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderValue, Method, Response, StatusCode, header};
use serde_json::{Value, json};

use super::query::parse_pairs;
use super::reply::{ApiError, body_bytes, json_response};
use super::request::Req;
use super::state::Shared;
use super::store::{Device, DeviceState, Store};

/// A new random token.
pub(crate) fn new_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

fn user_code() -> String {
    const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let letters: String = bytes[..4]
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    let digits: String = bytes[4..8]
        .iter()
        .map(|b| char::from(b'0' + b % 10))
        .collect();
    format!("{letters}-{digits}")
}

/// The JSON body of a `POST` (405 for any other method, before the body
/// is read).
fn post_body(req: &Req<'_>) -> Result<Value, ApiError> {
    if req.method != Method::POST {
        return Err(ApiError::method(req.method.as_str(), vec!["POST"]));
    }
    req.json()
}

/// `POST /api/auth/device/`: a new sign-in, with its codes and where a
/// person approves it.
pub(crate) fn start(st: &Shared, req: &Req<'_>) -> Result<Response<Body>, ApiError> {
    let body = post_body(req)?;
    let client_name = body
        .get("client_name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let d = Device {
        device_code: new_token(),
        user_code: user_code(),
        session_id: uuid::Uuid::new_v4().simple().to_string(),
        client_name,
        state: if st.settings.auto_approve {
            DeviceState::Approved(st.settings.default_user)
        } else {
            DeviceState::Pending
        },
        expires: Instant::now() + Duration::from_secs(st.settings.device_expires_in),
    };
    let base = req.base();
    let out = json!({
        "device_code": d.device_code,
        "user_code": d.user_code,
        "verification_uri": format!("{base}account/authorize/"),
        "verification_uri_complete": format!("{base}account/authorize/?session={}", d.session_id),
        "interval": st.settings.device_interval,
        "expires_in": st.settings.device_expires_in,
        "session_id": d.session_id,
    });
    st.write().devices.push(d);
    Ok(json_response(StatusCode::OK, body_bytes(&out)))
}

/// `POST /api/auth/device/token/`: how a sign-in stands (its token once,
/// when approved).
pub(crate) fn poll(st: &Shared, req: &Req<'_>) -> Result<Response<Body>, ApiError> {
    let body = post_body(req)?;
    let Some(code) = body.get("device_code").and_then(Value::as_str) else {
        return Err(ApiError::field("device_code", "This field is required."));
    };
    let mut store = st.write();
    let answer = poll_code(&mut store, code);
    Ok(json_response(StatusCode::OK, body_bytes(&answer)))
}

fn poll_code(store: &mut Store, code: &str) -> Value {
    let now = Instant::now();
    let Some(i) = store.devices.iter().position(|d| d.device_code == code) else {
        // Unknown codes are treated like codes that expired and were purged.
        return json!({"error": "expired_token"});
    };
    let d = &store.devices[i];
    let expired = now > d.expires;
    match d.state.clone() {
        DeviceState::Collected => json!({"error": "already_used"}),
        DeviceState::Denied => json!({"error": "access_denied"}),
        _ if expired => json!({"error": "expired_token"}),
        DeviceState::Pending => json!({"status": "authorization_pending"}),
        DeviceState::Approved(user) => {
            let token = new_token();
            store.tokens.insert(
                token.clone(),
                super::store::TokenGrant {
                    user,
                    read_only: false,
                },
            );
            store.devices[i].state = DeviceState::Collected;
            json!({"status": "success", "token": token})
        }
    }
}

/// Change the state of a pending sign-in found by user code, device code or
/// session id. Returns whether one was found.
pub(crate) fn decide(store: &mut Store, code: &str, decision: Decision) -> bool {
    let now = Instant::now();
    let Some(d) = store.devices.iter_mut().find(|d| {
        d.user_code.eq_ignore_ascii_case(code) || d.device_code == code || d.session_id == code
    }) else {
        return false;
    };
    match decision {
        Decision::Approve(user) => {
            if d.state == DeviceState::Pending {
                d.state = DeviceState::Approved(user);
            }
        }
        Decision::Deny => {
            if d.state == DeviceState::Pending {
                d.state = DeviceState::Denied;
            }
        }
        Decision::Expire => d.expires = now.checked_sub(Duration::from_secs(1)).unwrap_or(now),
    }
    true
}

/// What to do with a pending sign-in.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Decision {
    Approve(i64),
    Deny,
    Expire,
}

fn html(status: StatusCode, body: String) -> Response<Body> {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `/account/authorize/`: GET shows the request, POST approves or denies it
/// (as the server's default user).
pub(crate) fn authorize_page(st: &Shared, req: &Req<'_>) -> Result<Response<Body>, ApiError> {
    let mut pairs = parse_pairs(req.uri.query());
    if req.method == Method::POST {
        pairs.extend(parse_pairs(std::str::from_utf8(req.body).ok()));
    } else if req.method != Method::GET {
        return Err(ApiError::method(req.method.as_str(), vec!["GET", "POST"]));
    }
    let get = |k: &str| pairs.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone());
    let code = get("session")
        .or_else(|| get("user_code"))
        .unwrap_or_default();
    if req.method == Method::POST {
        let decision = match get("decision").as_deref() {
            Some("deny") => Decision::Deny,
            _ => Decision::Approve(st.settings.default_user),
        };
        let found = !code.is_empty() && decide(&mut st.write(), &code, decision);
        let msg = match (found, decision) {
            (false, _) => "No pending sign-in matches this code.",
            (true, Decision::Deny) => "Sign-in denied. You can close this window.",
            _ => "Sign-in approved. You can close this window.",
        };
        return Ok(html(
            if found {
                StatusCode::OK
            } else {
                StatusCode::NOT_FOUND
            },
            format!("<!doctype html><title>BrainSTEM stand-in</title><p>{msg}</p>"),
        ));
    }
    let store = st.read();
    let pending = store.devices.iter().find(|d| {
        !code.is_empty()
            && (d.session_id == code || d.user_code.eq_ignore_ascii_case(&code))
            && d.state == DeviceState::Pending
    });
    let body = match pending {
        Some(d) => format!(
            "<!doctype html><title>BrainSTEM stand-in</title>\
             <p>{} asks to sign in with code <b>{}</b>.</p>\
             <form method=post><input type=hidden name=session value=\"{}\">\
             <button name=decision value=approve>Approve</button> \
             <button name=decision value=deny>Deny</button></form>",
            escape(if d.client_name.is_empty() {
                "A client"
            } else {
                &d.client_name
            }),
            escape(&d.user_code),
            escape(&d.session_id)
        ),
        None => "<!doctype html><title>BrainSTEM stand-in</title>\
                 <form method=post><label>Code <input name=user_code></label> \
                 <button name=decision value=approve>Approve</button> \
                 <button name=decision value=deny>Deny</button></form>"
            .to_string(),
    };
    Ok(html(StatusCode::OK, body))
}
